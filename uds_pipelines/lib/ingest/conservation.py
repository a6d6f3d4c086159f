"""Conservation: every record read from an inbox file landed, was quarantined, or was a duplicate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uds_pipelines.lib import lake, lake_views

_NO_BATCHES = "(SELECT NULL::VARCHAR AS batch, 0::BIGINT AS n WHERE false)"


def conservation_violations(
    lake_dir: Path,
    source: str,
    records_table: str | None,
    landed_now: set[str] | None = None,
    stored_rows: str | None = None,
) -> pd.DataFrame:
    """Files of `source` whose counts do not add up.

    `records_table` is the catalog table the source's records land in (None: not recounted).
    The ledger's own arithmetic is checked for every file ever landed. For the files landed in
    this run (`landed_now`, sha256s), the rows actually stored in the lake are counted again per
    file; older files are not recounted because erasure and retention legitimately remove rows.
    `stored_rows` replaces the count by file name for a source whose files hold several inputs'
    rows: a relation of (batch: the input's sha256[:24], n).
    """
    con = lake.duckdb_connection("1GB")
    try:
        lake_views.register(con, lake_dir, ["landed_files"])
        stored = stored_rows or (
            _rows_per_batch(lake_dir, records_table, source) if records_table else _NO_BATCHES
        )
        quarantined = _rows_per_batch(lake_dir, "quarantine", source)
        check_stored = records_table is not None
        recent = lake.sql_literal_list(sorted(landed_now or [])) or "NULL"
        sql = f"""
            WITH files AS (
                SELECT * FROM landed_files WHERE source = ? AND records_read IS NOT NULL
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


def _rows_per_batch(lake_dir: Path, table: str, source: str) -> str:
    """Rows of a folder table per batch file of `source` (`<source>-<sha256 prefix>.parquet`; a
    partitioned table has one such file per partition, summed): work on the table's files, not the
    table, since the batch is known only by its file name."""
    files = lake_views.table_files(lake_dir, table)
    if not files:
        return _NO_BATCHES
    relation = lake.files_relation(files, filename=True, union_by_name=True)
    return (
        f"(SELECT regexp_extract(filename, '{source}-([0-9a-f]+)\\.parquet', 1) AS batch, count(*) AS n "
        f"FROM {relation} GROUP BY 1)"
    )
