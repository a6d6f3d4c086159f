"""Each distinct phone of a batch normalized once, on every core, into a DuckDB table SQL joins.

libphonenumber's Python port parses and validates a number in about 36 us, in Python: at 10M
Stripe events identity inputs read 1.05M distinct phones, 38 s on one core, and the record,
identifier and rejection SQL each asked for a phone again (a miss once the distinct phones
outgrow `normalize_phone`'s cache). A table of (phone, region) -> (e164, reason), built here once
per batch and joined by all three, asks each number once; a large batch is split across worker
processes (the function is pure, so the table is the same however it is split).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import duckdb
import pyarrow as pa

from uds_pipelines.lib.normalize.phone import normalize_phone
from uds_pipelines.lib.worker_pool import default_workers, spawn_pool

log = logging.getLogger(__name__)

# Fewer distinct phones are normalized here. A phone costs about 36 us; starting the workers (fresh
# interpreters importing this package, pandas included) about 1.5 s: two workers break even near
# 86,000 phones (at 1M Stripe events a full run has 105,000: 3.5 s either way; at 10M, 1.05M:
# 19 s against 38 s).
MIN_PARALLEL = 100_000
CHUNK = 25_000  # phones per task: big enough to amortize pickling, small enough to balance cores
SCHEMA = pa.schema(
    [("phone", pa.string()), ("region", pa.string()), ("e164", pa.string()), ("reason", pa.string())]
)


def create_phone_table(
    con: duckdb.DuckDBPyConnection,
    pairs_sql: str,
    table: str,
    default_region: str = "US",
    workers: int | None = None,
) -> int:
    """TEMP TABLE `table` (phone, region, e164, reason): each distinct non-NULL (phone, region) of
    the query `pairs_sql` (columns phone, region: the region a number is read against) normalized
    by `normalize_phone`, as the `uds_phone_e164` and `uds_phone_reason` functions would; returns
    its row count. `workers` defaults to one per core (`worker_pool`); 0 or 1 normalizes here."""
    pairs = con.sql(
        f"SELECT DISTINCT phone, region FROM ({pairs_sql}) WHERE phone IS NOT NULL ORDER BY phone, region"
    ).to_arrow_table()
    phones, regions = pairs["phone"].to_pylist(), pairs["region"].to_pylist()
    e164, reasons = normalize_pairs(phones, regions, default_region.upper(), workers)
    frame = pa.table([pairs["phone"], pairs["region"], e164, reasons], schema=SCHEMA)
    con.register("_uds_phone_rows", frame)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM _uds_phone_rows")
    finally:
        con.unregister("_uds_phone_rows")
    return frame.num_rows


def normalize_chunk(phones: list[str], regions: list[str | None], default_region: str) -> list[list]:
    """[e164s, reasons] of the phones, each read against its region (a worker's task)."""
    # uncached: each pair comes once, a cache would only hold memory
    normalize = normalize_phone.__wrapped__
    results = [normalize(p, r, default_region) for p, r in zip(phones, regions, strict=True)]
    return [[r.e164 for r in results], [r.reason for r in results]]


def normalize_pairs(
    phones: list[str],
    regions: list[str | None],
    default_region: str,
    workers: int | None = None,
    task: Callable[..., list[list]] = normalize_chunk,
) -> tuple[list[str | None], list[str | None]]:
    """(e164s, reasons) of the phones, in their order: `task` (a module-level function with
    `normalize_chunk`'s signature) over chunks in worker processes for many phones, else here. A
    chunk whose worker died is normalized here."""
    workers = default_workers() if workers is None else workers
    pool = spawn_pool(workers, "normalizing phones") if workers >= 2 and len(phones) >= MIN_PARALLEL else None
    if pool is None:
        e164, reasons = task(phones, regions, default_region)
        return e164, reasons
    e164, reasons = [], []
    starts = range(0, len(phones), CHUNK)
    with pool:
        futures = [
            pool.submit(task, phones[i : i + CHUNK], regions[i : i + CHUNK], default_region) for i in starts
        ]
        for i, future in zip(starts, futures, strict=True):
            try:
                chunk_e164, chunk_reasons = future.result()
            except Exception as exc:  # noqa: BLE001 - a dead worker (killed, out of memory): do it here
                log.warning("phone worker failed (%s): normalizing its share here", type(exc).__name__)
                chunk_e164, chunk_reasons = task(
                    phones[i : i + CHUNK], regions[i : i + CHUNK], default_region
                )
            e164.extend(chunk_e164)
            reasons.extend(chunk_reasons)
    return e164, reasons


def phone_rows_sql(table: str | None, pairs_sql: str) -> str:
    """A relation (phone, region, e164, reason): `table` (from `create_phone_table`) when given,
    else computed in place by the `uds_phone_*` functions, once per distinct pair of the query
    `pairs_sql` (columns phone, region); either way SQL joins it on (phone, region)."""
    if table:
        return f"SELECT phone, region, e164, reason FROM {table}"
    return f"""
        SELECT phone, region, uds_phone_e164(phone, region) AS e164, uds_phone_reason(phone, region) AS reason
        FROM (SELECT DISTINCT phone, region FROM ({pairs_sql}) WHERE phone IS NOT NULL)
    """
