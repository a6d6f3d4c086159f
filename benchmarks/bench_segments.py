"""Benchmark: consent, segments and audience files over synthetic profiles (target <= 20 s, <= 1.5 GiB)."""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from uds_pipelines.lib import lake
from uds_pipelines.lib.audiences import check_audience, load_audiences, plan_audience, write_audience_files
from uds_pipelines.lib.config import CONFIG_DIR, DEFAULT_PURPOSES
from uds_pipelines.lib.consent import build_consent_ledger, effective_consent, wide_consent_sql
from uds_pipelines.lib.profiles.rfm import add_rfm_scores
from uds_pipelines.lib.segments import compute_membership, load_segments, write_membership

AS_OF = datetime(2026, 1, 31, tzinfo=UTC)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def synthesize(con, folder: Path, n: int) -> dict[str, Path]:
    """Profiles, consent statements and suppressions, generated in DuckDB from `range(n)`."""
    profiles = folder / "customer_profiles.parquet"
    consent = folder / "consent.parquet"
    as_of = f"TIMESTAMPTZ '{AS_OF.isoformat()}'"
    consent_cols = ", ".join(f"false AS consent_{p}" for p in DEFAULT_PURPOSES)
    con.execute(
        f"""
        COPY (
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
                orders * (hash(i * 11 + 5) % 20000) / 100.0 AS lifetime_value, 'usd' AS currency,
                CAST(orders AS BIGINT) AS orders_count,
                CASE WHEN orders > 0 THEN {as_of} - to_days(CAST(300 + hash(i * 11 + 6) % 300 AS INTEGER)) END
                    AS first_order_at,
                CASE WHEN orders > 0 THEN {as_of} - to_days(CAST(hash(i * 11 + 6) % 300 AS INTEGER)) END
                    AS last_order_at,
                CASE WHEN i % 5 = 0 THEN 'active' END AS subscription_status, 0.0 AS mrr,
                CASE WHEN i % 2 = 0 THEN CAST(hash(i * 11 + 7) % 11 AS INTEGER) END AS nps_latest,
                CAST(i % 3 AS BIGINT) AS surveys_count, CAST(i % 2 AS BIGINT) AS forms_count,
                'organic' AS acquisition_source, {consent_cols}
            FROM base
        ) TO '{profiles}' (FORMAT parquet)
        """
    )
    # ~1.5 statements a person: opt-ins, later opt-outs for some, ad consent for others.
    con.execute(
        f"""
        COPY (
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
        ) TO '{consent}' (FORMAT parquet)
        """
    )
    return {"profiles": profiles, "consent": consent}


def run(n: int, folder: Path) -> None:
    con = lake.duckdb_connection(memory_limit="1GB")
    timings: dict[str, tuple[float, float]] = {}
    mark = (time.perf_counter(), _cpu())

    def step(name: str) -> None:
        # CPU seconds next to wall seconds: on a shared machine wall time alone misleads.
        nonlocal mark
        now = (time.perf_counter(), _cpu())
        timings[name] = (now[0] - mark[0], now[1] - mark[1])
        mark = now

    files = synthesize(con, folder, n)
    step("synthesize")
    started = time.perf_counter()
    started_cpu = _cpu()
    profiles = lake.read_table_sql(files["profiles"], {})
    con.execute(
        f"CREATE TEMP TABLE suppressed AS SELECT customer_id FROM {profiles} WHERE hash(customer_id) % 100 = 0"
    )
    ids = f"(SELECT 'email' AS identifier_type, lower(email) AS identifier_key, customer_id FROM {profiles})"
    ledger = build_consent_ledger(con, [lake.read_table_sql(files["consent"], {})], DEFAULT_PURPOSES)
    consent = effective_consent(con, ledger, ids, DEFAULT_PURPOSES)
    wide = con.execute(
        f"SELECT count(*) FROM ({wide_consent_sql(consent.table, DEFAULT_PURPOSES, profiles)})"
    ).fetchall()
    step("consent")
    segments, seg_errors = load_segments(CONFIG_DIR / "segments.yaml")
    scored = add_rfm_scores(con, profiles, AS_OF)
    lake_dir = folder / "lake"
    history_file = lake_dir / "segments" / "segment_history.parquet"
    first = compute_membership(
        con, segments, scored, AS_OF - timedelta(days=1), excluded_customers_sql="suppressed"
    )
    write_membership(con, first, lake_dir)
    step("segments run 1")
    result = compute_membership(
        con,
        segments,
        scored,
        AS_OF,
        previous_history_sql=lake.read_table_sql(history_file, {}),
        excluded_customers_sql="suppressed",
    )
    written = write_membership(con, result, lake_dir)
    step("segments run 2")
    audiences, aud_errors = load_audiences(CONFIG_DIR / "audiences.yaml", DEFAULT_PURPOSES, result.evaluated)
    exported = {}
    for audience in audiences:
        plan = plan_audience(con, audience, result.membership, profiles, consent.table, "suppressed")
        passed, _ = check_audience(plan)
        assert passed, audience.name
        write_audience_files(plan, folder / "exports", "bench", AS_OF)
        exported[audience.name] = plan.counts
    step("audiences")
    total = time.perf_counter() - started
    total_cpu = _cpu() - started_cpu
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024)
    print(f"profiles: {n:,}  consent statements: {ledger.rows:,}  wide consent rows: {wide[0][0]:,}")
    print(f"segment errors: {seg_errors + result.errors}  audience errors: {aud_errors}")
    print(f"membership rows: {written['segment_membership']:,}  history rows: {written['segment_history']:,}")
    for name, counts in exported.items():
        print(f"  {name}: {counts}")
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
