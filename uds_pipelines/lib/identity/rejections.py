"""Emails and phones the normalizers refused, with the reason: never followed, never silently lost.

The table keeps record ids, the identifier type and the reason only, not the refused value: the
raw value stays on the person record (`person_records.parquet`), where erasure already reaches it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, lake

REJECTED_IDENTIFIERS = catalog.TABLES["rejected_identifiers"].path
REJECTED_COLUMNS = {"source": "VARCHAR", "record_id": "VARCHAR", "id_type": "VARCHAR", "reason": "VARCHAR"}


def rejected_identifiers_sql(records_table: str, default_region: str) -> str:
    """(source, record_id, id_type, reason) for every non-blank email or phone that normalizes to NULL.

    Needs the `uds_*` functions on the connection. The phone region rule is the identifiers' own:
    the record's country, else `default_region`.
    """
    region = default_region.replace("'", "")
    return f"""
        WITH r AS (
            SELECT source, record_id, email, phone, coalesce(uds_country(country), '{region}') AS region
            FROM {records_table}
        )
        SELECT source, record_id, 'email' AS id_type, coalesce(uds_email_reason(email), 'invalid') AS reason
        FROM r WHERE nullif(trim(email), '') IS NOT NULL AND uds_email_key(email) IS NULL
        UNION ALL
        SELECT source, record_id, 'phone', coalesce(uds_phone_reason(phone, region), 'invalid')
        FROM r WHERE nullif(trim(phone), '') IS NOT NULL AND uds_phone_e164(phone, region) IS NULL
    """


def write_rejected_identifiers(
    con: duckdb.DuckDBPyConnection, records_sql: str, lake_dir: Path, default_region: str
) -> int:
    """Write `identity/rejected_identifiers.parquet`; returns its row count."""
    return lake.copy_query_to_parquet(
        con, rejected_identifiers_sql(records_sql, default_region), lake_dir / REJECTED_IDENTIFIERS
    )


def rejection_summary(con: duckdb.DuckDBPyConnection, lake_dir: Path):
    """Counts per (id_type, reason), most frequent first, as a DataFrame for metadata."""
    table = lake.read_table_sql(lake_dir / REJECTED_IDENTIFIERS, REJECTED_COLUMNS)
    return con.execute(
        f"SELECT id_type, reason, count(*) AS records FROM {table} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"
    ).df()
