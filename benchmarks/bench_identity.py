"""Benchmark identity resolution on synthetic people with known truth: time, peak RSS, pairwise P/R/F1."""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from uds_pipelines.lib.identity import GuardrailConfig, resolve_identities, write_outputs
from uds_pipelines.lib.lake import duckdb_connection

# One row per record: person p has 1-3 records; the first is a Stripe customer for half the people.
# Identifiers: own record id, the person's email on 85% of records (10% of people use a second email
# on some), phone on 40%, stripe_customer on the Stripe record and on 20% of that person's other records.
# Noise: 0.5% of records give test@test.com, 0.3% a 555 placeholder phone, 0.5% a shared office inbox
# (10 inboxes, each far over the junk threshold), and 2% of people share a household phone with
# the next person (a real false-merge source the guardrails do not catch).
SYNTH_SQL = """
WITH people AS (SELECT range AS p, 1 + hash(range, 'n') % 3 AS n_rec FROM range({n})),
recs AS (
    SELECT p, k, hash(p, k, 'r') % 1000 AS u1, hash(p, k, 's') % 1000 AS u2, hash(p, 'x') % 1000 AS up,
           CASE WHEN k = 0 AND p % 2 = 0 THEN 'stripe' WHEN k % 2 = 1 THEN 'form' ELSE 'survey' END AS source
    FROM people, range(3) t(k) WHERE k < n_rec
),
keyed AS (
    SELECT *, CASE WHEN source = 'stripe' THEN 'cus_' || p ELSE source || '_' || p || '_' || k END AS record_id
    FROM recs
)
SELECT p AS person, source, record_id, 'record' AS id_type, source || ':' || record_id AS id_value FROM keyed
UNION ALL
SELECT p, source, record_id, 'email',
       CASE WHEN u1 < 5 THEN 'test@test.com'
            WHEN u1 < 10 THEN 'info@office' || (p % 10) || '.com'
            WHEN up < 100 AND k = 2 THEN 'alt' || p || '@mail' || (p % 97) || '.org'
            ELSE 'user' || p || '@mail' || (p % 97) || '.com' END
FROM keyed WHERE u1 < 850
UNION ALL
SELECT p, source, record_id, 'phone',
       CASE WHEN u2 < 3 THEN '+15555555555'
            WHEN up >= 980 AND p % 2 = 0 THEN '+1' || (2125550000 + p + 1)
            ELSE '+1' || (2125550000 + p) END
FROM keyed WHERE u2 < 400
UNION ALL
SELECT p, source, record_id, 'stripe_customer', 'cus_' || p
FROM keyed WHERE p % 2 = 0 AND (source = 'stripe' OR u2 >= 800)
"""

METRICS_SQL = """
WITH joined AS (
    SELECT t.person, m.customer_id FROM (SELECT DISTINCT person, source, record_id FROM bench_truth) t
    JOIN {map} m USING (source, record_id)
),
pred AS (SELECT sum(n * (n - 1) / 2) AS pairs FROM (SELECT count(*) AS n FROM joined GROUP BY customer_id)),
truth AS (SELECT sum(n * (n - 1) / 2) AS pairs FROM (SELECT count(*) AS n FROM joined GROUP BY person)),
agree AS (SELECT sum(n * (n - 1) / 2) AS pairs FROM (SELECT count(*) AS n FROM joined GROUP BY customer_id, person))
SELECT pred.pairs, truth.pairs, agree.pairs FROM pred, truth, agree
"""


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU of this process: comparable across runs even when other work shares the cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pairwise(con, map_table: str) -> dict[str, float]:
    pred, truth, both = con.execute(METRICS_SQL.format(map=map_table)).fetchall()[0]
    precision = both / pred if pred else 1.0
    recall = both / truth if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--second-run", action="store_true", help="also time a re-run over the first run's ids"
    )
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench_identity_"))
    try:
        con = duckdb_connection(memory_limit=args.memory_limit, threads=args.threads)
        con.execute(f"SET temp_directory='{work / 'spill'}'")
        started = time.perf_counter()
        truth = work / "identifiers.parquet"
        con.execute(f"COPY ({SYNTH_SQL.format(n=int(args.people))}) TO '{truth}' (FORMAT parquet)")
        con.execute(f"CREATE VIEW bench_truth AS SELECT * FROM read_parquet('{truth}')")
        rows = con.execute("SELECT count(*) FROM bench_truth").fetchall()[0][0]
        print(
            f"people={args.people:,} identifier_rows={rows:,} synth_seconds={time.perf_counter() - started:.1f}"
        )

        now = datetime(2026, 1, 1, tzinfo=timezone.utc)
        started, cpu = time.perf_counter(), cpu_seconds()
        result = resolve_identities(
            con,
            "SELECT source, record_id, id_type, id_value FROM bench_truth",
            previous_map_path=None,
            previous_registry_path=None,
            config=GuardrailConfig(),
            run_id="bench-1",
            now=now,
        )
        written = write_outputs(con, result, work / "out")
        seconds = time.perf_counter() - started
        metrics = pairwise(con, result.tables["identity_map"])
        print(
            f"run1: seconds={seconds:.1f} cpu_seconds={cpu_seconds() - cpu:.1f} peak_rss_mib={peak_rss_mib():.0f} stats={result.stats}"
        )
        print("run1: " + " ".join(f"{k}={v:.4f}" for k, v in metrics.items()))

        if args.second_run:
            started, cpu = time.perf_counter(), cpu_seconds()
            # Re-run with 1% of records erased: exercises carry-over, splits and retirement.
            result = resolve_identities(
                con,
                "SELECT source, record_id, id_type, id_value FROM bench_truth WHERE hash(record_id, 'erase') % 100 <> 0",
                previous_map_path=written["identity_map"],
                previous_registry_path=written["customer_registry"],
                config=GuardrailConfig(),
                run_id="bench-2",
                now=now,
            )
            write_outputs(con, result, work / "out")
            seconds = time.perf_counter() - started
            print(
                f"run2: seconds={seconds:.1f} cpu_seconds={cpu_seconds() - cpu:.1f} peak_rss_mib={peak_rss_mib():.0f} stats={result.stats}"
            )
        con.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
