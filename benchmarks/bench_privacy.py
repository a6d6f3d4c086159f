"""Benchmark erasure: a lake of ~1M Stripe events (plus identity and profiles), erase 100 people through
the stage the privacy_requests asset runs (landing locks, resolution, erasure, suppression, audit and
the verification scan of the whole data folder)."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import catalog, connection, lake_views
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.privacy.stage import run_privacy_requests

EVENTS_PER_FILE = 100_000
# Issue 15's targets for erasure on a 10M-event lake: 100 people within a minute, a backlog of
# 3,000 in one batch within five; peak RSS within 2 GiB.
TARGET_SECONDS = {100: 60.0, 3000: 300.0}
TARGET_RSS_MIB = 2048
# Customer c has events for itself and its charges; payloads look like Stripe's (about 700 bytes).
EVENTS_SQL = """
SELECT 'evt_' || lpad(CAST(i AS VARCHAR), 12, '0') AS event_id,
       CASE WHEN i % 10 = 0 THEN 'customer.updated' ELSE 'charge.succeeded' END AS type,
       make_timestamptz(2024, 1, 1, 0, 0, 0) + to_seconds(i) AS created,
       false AS livemode, '2024-06-20' AS api_version,
       CASE WHEN i % 10 = 0 THEN 'customer' ELSE 'charge' END AS object_type,
       CASE WHEN i % 10 = 0 THEN 'cus_' || lpad(CAST(i % {customers} AS VARCHAR), 10, '0')
            ELSE 'ch_' || lpad(CAST(i AS VARCHAR), 14, '0') END AS object_id,
       'cus_' || lpad(CAST(i % {customers} AS VARCHAR), 10, '0') AS customer_ref,
       '{{"id":"evt_' || lpad(CAST(i AS VARCHAR), 12, '0') || '","object":"event","api_version":"2024-06-20",'
       || '"created":' || CAST(1704067200 + i AS VARCHAR) || ',"type":"charge.succeeded","livemode":false,'
       || '"data":{{"object":{{"id":"ch_' || lpad(CAST(i AS VARCHAR), 14, '0') || '","object":"charge","amount":'
       || CAST(100 + i % 9000 AS VARCHAR) || ',"currency":"usd","customer":"cus_'
       || lpad(CAST(i % {customers} AS VARCHAR), 10, '0') || '","billing_details":{{"email":"User.'
       || CAST(i % {customers} AS VARCHAR) || '+shop@Mail' || CAST(i % {customers} % 97 AS VARCHAR)
       || '.com","phone":"+1415' || lpad(CAST(i % {customers} AS VARCHAR), 7, '0') || '","name":"Person '
       || CAST(i % {customers} AS VARCHAR) || '","address":{{"city":"Springfield","country":"US","line1":"1 Main St",'
       || '"postal_code":"12345"}}}},"description":"Order ' || CAST(i AS VARCHAR) || '","metadata":{{"source":"web"}},'
       || '"paid":true,"status":"succeeded","receipt_url":"https://pay.stripe.com/receipts/x"}}}},'
       || '"request":{{"id":null,"idempotency_key":null}},"pending_webhooks":0}}' AS payload,
       'bench.jsonl' AS source_file, i AS position, now() AS landed_at
FROM range({start}, {stop}) t(i)
"""


def catalog_columns(con, name: str, sql: str) -> str:
    """`sql` with exactly the catalog's columns of table `name`, in order; those it lacks as NULL."""
    present = {row[0] for row in con.execute(f"DESCRIBE {sql}").fetchall()}
    columns = ", ".join(
        f.name if f.name in present else f"CAST(NULL AS {catalog.duckdb_type(f.type)}) AS {f.name}"
        for f in catalog.table(name).schema
    )
    return f"SELECT {columns} FROM ({sql})"


def build(lake_dir: Path, events: int, customers: int) -> None:
    con = connection.connect(lake_dir, memory_limit="4GB")

    def write(name: str, sql: str, batch_name: str | None = None) -> None:
        lake_views.write_query(con, lake_dir, name, catalog_columns(con, name, sql), batch_name=batch_name)

    for n, start in enumerate(range(0, events, EVENTS_PER_FILE)):
        stop = min(events, start + EVENTS_PER_FILE)
        events_sql = EVENTS_SQL.format(customers=customers, start=start, stop=stop)
        write("landed_stripe", events_sql, f"batch-{n:04d}.parquet")
    ids = f"""
        SELECT 'stripe' AS source, 'cus_' || lpad(CAST(c AS VARCHAR), 10, '0') AS record_id, t.id_type,
               CASE t.id_type WHEN 'email' THEN 'user.' || c || '@mail' || (c % 97) || '.com'
                    WHEN 'phone' THEN '+1415' || lpad(CAST(c AS VARCHAR), 7, '0')
                    ELSE 'cus_' || lpad(CAST(c AS VARCHAR), 10, '0') END AS id_value
        FROM range({customers}) r(c), (VALUES ('email'), ('phone'), ('stripe_customer')) t(id_type)
    """
    write("identifiers", ids)
    write(
        "identity_map",
        f"SELECT 'stripe' AS source, 'cus_' || lpad(CAST(c AS VARCHAR), 10, '0') AS record_id, "
        f"'uds_' || lpad(CAST(c AS VARCHAR), 20, '0') AS customer_id FROM range({customers}) r(c)",
    )
    write(
        "customer_profiles",
        f"SELECT 'uds_' || lpad(CAST(c AS VARCHAR), 20, '0') AS customer_id, 'user.' || c || '@mail' || (c % 97) || '.com' "
        f"AS email, '+1415' || lpad(CAST(c AS VARCHAR), 7, '0') AS phone FROM range({customers}) r(c)",
    )
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--erase", type=int, default=100)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_privacy_"))
    try:
        data = root / "data"
        started = time.perf_counter()
        # in a child process, so the peak RSS printed below is the stage's own
        builder = multiprocessing.get_context("spawn").Process(
            target=build, args=(data / "lake", args.events, args.customers)
        )
        builder.start()
        builder.join()
        if builder.exitcode:
            raise SystemExit(f"building the lake failed (exit code {builder.exitcode})")
        size = sum(p.stat().st_size for p in (data / "lake").rglob("*.parquet"))
        print(
            f"built lake: {args.events} events, {size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
        )
        step = max(1, args.customers // args.erase)
        people = [i * step for i in range(args.erase)]
        requests = pd.DataFrame(
            [
                {"request_id": f"r{c}", "type": "erasure", "email": f"USER.{c}@mail{c % 97}.com",
                 "received_at": "2026-10-01T00:00:00Z", "source_file": "bench.jsonl", "position": n}
                for n, c in enumerate(people)
            ]
        )  # fmt: skip
        requests = requests.reindex(columns=list(catalog.table("landed_privacy").columns))
        requests["received_at"] = pd.to_datetime(requests["received_at"], utc=True)
        lake_views.write_arrow(data / "lake", "landed_privacy", requests, batch_name="privacy-bench.parquet")
        settings = Settings.from_env(
            {"UDS_DATA_DIR": str(data), "UDS_AS_OF": "2026-11-01T00:00:00Z", "HOME": os.environ["HOME"]}
        )
        started = time.perf_counter()
        stage = run_privacy_requests(settings, "bench")
        total = time.perf_counter() - started
        report = stage.result.erasure
        print(
            f"privacy_requests stage: {total:.2f} s (erase {report.seconds:.2f} s); {stage.result.status_counts()}"
        )
        print(
            f"rows removed: {report.removed}; files rewritten: {report.files_rewritten}; "
            f"bytes rewritten: {report.bytes_rewritten} ({report.bytes_rewritten / 1e6:.1f} MB)"
        )
        print(
            f"verification (whole data dir): {stage.verify_seconds:.2f} s, {stage.identifiers_checked} "
            f"identifiers, findings: {len(stage.findings)}, leftovers: {len(stage.leftovers)}"
        )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        target = TARGET_SECONDS.get(args.erase)
        verdict = "-" if target is None else ("PASS" if total <= target and rss <= TARGET_RSS_MIB else "MISS")
        limits = f" (targets: <= {target:.0f} s, <= {TARGET_RSS_MIB} MiB)" if target else ""
        print(
            f"{args.erase} erasures on {args.events:,} events: {total:.1f} s, peak RSS {rss:,.0f} MiB: {verdict}{limits}"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
