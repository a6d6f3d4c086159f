"""Conservation: every record read from an inbox file landed, was quarantined, or was a duplicate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uds_pipelines.lib import lake
from uds_pipelines.lib.ingest.inbox import LEDGER_COLUMNS


def conservation_violations(
    lake_dir: Path, source: str, records_table: str | None, landed_now: set[str] | None = None
) -> pd.DataFrame:
    """Files of `source` whose counts do not add up.

    The ledger's own arithmetic is checked for every file ever landed. For the files landed in
    this run (`landed_now`, sha256s), the rows actually stored in the lake are counted again per
    file; older files are not recounted because erasure and retention legitimately remove rows.
    """
    con = lake.duckdb_connection("1GB")
    try:
        ledger = lake.read_table_sql(lake_dir / lake.LANDED_FILES, LEDGER_COLUMNS)
        stored = "(SELECT NULL::VARCHAR AS batch, 0::BIGINT AS n WHERE false)"
        if records_table and lake.has_parquet(lake_dir / records_table):
            glob = lake.parquet_glob(lake_dir / records_table)
            stored = (
                f"(SELECT regexp_extract(filename, '{source}-([0-9a-f]+)\\.parquet', 1) AS batch, count(*) AS n "
                f"FROM read_parquet('{glob}', filename=true, union_by_name=true) GROUP BY 1)"
            )
        quarantined = (
            f"(SELECT regexp_extract(filename, '{source}-([0-9a-f]+)\\.parquet', 1) AS batch, count(*) AS n "
            f"FROM read_parquet('{lake.parquet_glob(lake_dir / lake.QUARANTINE)}', filename=true, union_by_name=true) "
            f"GROUP BY 1)"
            if lake.has_parquet(lake_dir / lake.QUARANTINE)
            else "(SELECT NULL::VARCHAR AS batch, 0::BIGINT AS n WHERE false)"
        )
        check_stored = records_table is not None
        recent = lake.sql_literal_list(sorted(landed_now or [])) or "NULL"
        sql = f"""
            WITH files AS (
                SELECT * FROM {ledger} WHERE source = ? AND records_read IS NOT NULL
            )
            SELECT f.file_name, f.sha256, f.records_read, f.records_landed, f.records_quarantined,
                   f.duplicates_skipped, coalesce(s.n, 0) AS rows_stored, coalesce(q.n, 0) AS rows_quarantined
            FROM files f
            LEFT JOIN {stored} s ON s.batch = substr(f.sha256, 1, 24)
            LEFT JOIN {quarantined} q ON q.batch = substr(f.sha256, 1, 24)
            WHERE f.records_read <> f.records_landed + f.records_quarantined + f.duplicates_skipped
               OR ({str(check_stored).lower()} AND f.sha256 IN ({recent}) AND (
                    (f.records_landed > 0 AND coalesce(s.n, 0) <> f.records_landed)
                    OR coalesce(q.n, 0) <> f.records_quarantined))
        """
        return con.execute(sql, [source]).df()
    finally:
        con.close()
