"""Benchmark: consent, segments and audience files over synthetic profiles (target <= 20 s, <= 1.5 GiB),
through the stage functions the assets run (exclusions, the blocking consent check and export manifests
included). The synthetic lake holds what those stages read: profiles with RFM scores, landed consent
statements, identifiers with their identity map, and a suppression list of 1% of customers."""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import connection, lake_views
from uds_pipelines.lib.audiences.stage import build_audience_members, check_members_consent, export_audiences
from uds_pipelines.lib.config import DEFAULT_PURPOSES, Settings
from uds_pipelines.lib.consent.stage import build_consent
from uds_pipelines.lib.privacy.suppression import add_to_suppression, suppression_hash
from uds_pipelines.lib.profiles.rfm import add_rfm_scores
from uds_pipelines.lib.segments.stage import build_segments

AS_OF = datetime(2026, 1, 31, tzinfo=UTC)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def settings_for(folder: Path, as_of: datetime) -> Settings:
    return Settings.from_env(
        {"UDS_DATA_DIR": str(folder), "UDS_AS_OF": as_of.isoformat(), "HOME": os.environ["HOME"]}
    )


def synthesize(con, folder: Path, n: int) -> None:
    """The lake the consent, segment and audience stages read, generated in DuckDB from `range(n)`
    and written as catalog tables (`lake_views.write_query`, checked against the catalog).
    `con` is a `connection.connect` connection of the lake under `folder`."""
    lake_dir = folder / "lake"
    as_of = f"TIMESTAMPTZ '{AS_OF.isoformat()}'"
    consent_cols = ", ".join(f"false AS consent_{p}" for p in DEFAULT_PURPOSES)
    con.execute(
        f"""
        CREATE TEMP TABLE bench_profiles AS (
            WITH base AS (
                SELECT i, CASE WHEN hash(i * 11 + 3) % 10 < 3 THEN 0 ELSE 1 + hash(i * 11 + 4) % 20 END AS orders
                FROM range({n}) AS t(i)
            )
            SELECT 'c' || lpad(CAST(i AS VARCHAR), 9, '0') AS customer_id,
                'user' || i || '@example.com' AS email,
                CASE WHEN i % 3 = 0 THEN NULL ELSE '+1415' || lpad(CAST(i % 10000000 AS VARCHAR), 7, '0') END AS phone,
                'First' || (i % 1000) AS first_name, 'Last' || (i % 5000) AS last_name,
                (['US', 'GB', 'DE', 'FR'])[1 + i % 4] AS country,
                {as_of} - to_days(CAST(hash(i * 11 + 1) % 1000 AS INTEGER)) AS first_seen_at,
                {as_of} - to_days(CAST(hash(i * 11 + 2) % 30 AS INTEGER)) AS last_seen_at,
                CAST(NULL AS TIMESTAMPTZ) AS first_signup_at,
                CAST(orders * (hash(i * 11 + 5) % 20000) / 100.0 AS DOUBLE) AS lifetime_value, 'usd' AS currency,
                CAST(orders AS BIGINT) AS orders_count,
                CASE WHEN orders > 0 THEN {as_of} - to_days(CAST(300 + hash(i * 11 + 6) % 300 AS INTEGER)) END
                    AS first_order_at,
                CASE WHEN orders > 0 THEN {as_of} - to_days(CAST(hash(i * 11 + 6) % 300 AS INTEGER)) END
                    AS last_order_at,
                CAST(NULL AS VARCHAR) AS lifetime_value_by_currency,
                CAST(orders * (hash(i * 11 + 5) % 20000) / 100.0 AS DOUBLE) AS lifetime_value_reporting,
                CASE WHEN i % 5 = 0 THEN 'active' END AS subscription_status, CAST(0.0 AS DOUBLE) AS mrr,
                CAST(NULL AS VARCHAR) AS mrr_by_currency,
                CASE WHEN i % 2 = 0 THEN CAST(hash(i * 11 + 7) % 11 AS INTEGER) END AS nps_latest,
                CAST(i % 3 AS BIGINT) AS surveys_count, CAST(i % 2 AS BIGINT) AS forms_count,
                'organic' AS acquisition_source, {consent_cols}
            FROM base
        )
        """
    )
    scored = add_rfm_scores(con, "bench_profiles", AS_OF)  # what customer_profiles adds
    lake_views.write_query(con, lake_dir, "customer_profiles", f"SELECT * FROM {scored}")
    # ~1.5 statements a person: opt-ins, later opt-outs for some, ad consent for others.
    lake_views.write_query(
        con,
        lake_dir,
        "landed_consent",
        f"""
            SELECT 'email' AS identifier_type, 'user' || i || '@example.com' AS identifier,
                'email_marketing' AS purpose, true AS granted,
                {as_of} - to_days(CAST(400 + i % 300 AS INTEGER)) AS captured_at, 'form' AS source,
                'f' || i AS source_record, 'bench.jsonl' AS source_file
            FROM range({n}) AS t(i) WHERE hash(i * 13 + 1) % 10 < 7
            UNION ALL
            SELECT 'email', 'USER' || i || '@Example.com ', 'email_marketing', false,
                {as_of} - to_days(CAST(i % 300 AS INTEGER)), 'privacy', 'p' || i, 'bench.jsonl'
            FROM range({n}) AS t(i) WHERE hash(i * 13 + 2) % 10 < 2
            UNION ALL
            SELECT 'email', 'user' || i || '@example.com', 'ad_targeting', true,
                {as_of} - to_days(CAST(i % 500 AS INTEGER)), 'survey', 's' || i, 'bench.csv'
            FROM range({n}) AS t(i) WHERE hash(i * 13 + 3) % 10 < 5
        """,
        batch_name="bench.parquet",
    )
    # Every person holds one email identifier, one record in the identity map.
    lake_views.write_query(
        con,
        lake_dir,
        "identifiers",
        f"""SELECT 'bench' AS source, 'r' || i AS record_id, 'email' AS id_type,
                   'user' || i || '@example.com' AS id_value, CAST(NULL AS TIMESTAMPTZ) AS observed_at
            FROM range({n}) AS t(i)""",
    )
    lake_views.write_query(
        con,
        lake_dir,
        "identity_map",
        f"""SELECT 'bench' AS source, 'r' || i AS record_id, 'c' || lpad(CAST(i AS VARCHAR), 9, '0') AS customer_id,
                   CAST(NULL AS VARCHAR) AS origin_customer_id
            FROM range({n}) AS t(i)""",
    )
    suppressed = con.execute(
        "SELECT customer_id FROM customer_profiles WHERE hash(customer_id) % 100 = 0"
    ).fetchall()
    key = settings_for(folder, AS_OF).suppression_key()
    hashes = pd.DataFrame(
        {
            "id_type": "customer_id",
            "id_hash": [suppression_hash(c, key) for (c,) in suppressed],
            "request_id": "bench",
        }
    )
    add_to_suppression(lake_dir, hashes)


def run(n: int, folder: Path) -> None:
    con = connection.connect(folder / "lake", memory_limit="1GB")
    timings: dict[str, tuple[float, float]] = {}
    mark = (time.perf_counter(), _cpu())

    def step(name: str) -> None:
        # CPU seconds next to wall seconds: on a shared machine wall time alone misleads.
        nonlocal mark
        now = (time.perf_counter(), _cpu())
        timings[name] = (now[0] - mark[0], now[1] - mark[1])
        mark = now

    synthesize(con, folder, n)
    con.close()
    step("synthesize")
    started = time.perf_counter()
    started_cpu = _cpu()
    consent = build_consent(settings_for(folder, AS_OF))
    step("consent")
    build_segments(settings_for(folder, AS_OF - timedelta(days=1)))
    step("segments run 1")
    settings = settings_for(folder, AS_OF)
    segments = build_segments(settings)
    step("segments run 2")
    members = build_audience_members(settings)
    check = check_members_consent(settings)
    assert check.passed, check.by_audience
    exported = export_audiences(settings, "bench").files
    step("audiences")
    total = time.perf_counter() - started
    total_cpu = _cpu() - started_cpu
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024)
    written = segments.written
    print(f"profiles: {n:,}  consent statements: {consent.ledger.rows:,}  audience members: {members.rows:,}")
    print(f"segment errors: {segments.errors}  audience errors: {members.errors}")
    print(f"membership rows: {written['segment_membership']:,}  history rows: {written['segment_history']:,}")
    for row in members.counts.to_dict("records"):
        print(f"  {row}")
    print(f"  exported files: {len(exported)}, rows: {int(exported['rows'].sum()) if len(exported) else 0:,}")
    for name, (wall, cpu) in timings.items():
        print(f"{name:>16}: {wall:6.2f} s wall  {cpu:6.2f} s CPU")
    print(
        f"total (excluding synthesis): {total:.2f} s wall, {total_cpu:.2f} s CPU   peak RSS: {peak_gib:.2f} GiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp folder)")
    args = parser.parse_args()
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
        run(args.profiles, args.dir)
    else:
        with tempfile.TemporaryDirectory(prefix="uds-bench-") as folder:
            run(args.profiles, Path(folder))


if __name__ == "__main__":
    main()
