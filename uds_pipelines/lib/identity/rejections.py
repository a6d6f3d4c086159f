"""Emails and phones the normalizers refused, with the reason: never followed, never silently lost.

The table keeps record ids, the identifier type and the reason only, not the refused value: the
raw value stays on the person record (`person_records`), where erasure already reaches it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from uds_pipelines.lib import lake_views
from uds_pipelines.lib.normalize.phone_table import phone_rows_sql


def rejected_identifiers_sql(
    default_region: str, *, records_table: str = "person_records", phones: str | None = None
) -> str:
    """(source, record_id, id_type, reason) for every non-blank email or phone of `records_table`
    (default the `person_records` view) that normalizes to NULL.

    Needs the `uds_*` functions on the connection. The phone region rule is the identifiers' own:
    the record's country, else `default_region`; `phones` names a table of the records' normalized
    phones (`lib.normalize.phone_table`), else they are normalized here.
    """
    region = default_region.replace("'", "")
    return f"""
        WITH r AS (
            SELECT source, record_id, email, phone, coalesce(uds_country(country), '{region}') AS region
            FROM {records_table}
        ),
        phones AS ({phone_rows_sql(phones, "SELECT phone, region FROM r")})
        SELECT source, record_id, 'email' AS id_type, coalesce(uds_email_reason(email), 'invalid') AS reason
        FROM r WHERE nullif(trim(email), '') IS NOT NULL AND uds_email_key(email) IS NULL
        UNION ALL
        SELECT r.source, r.record_id, 'phone', coalesce(p.reason, 'invalid')
        FROM r LEFT JOIN phones p ON p.phone = r.phone AND p.region = r.region
        WHERE nullif(trim(r.phone), '') IS NOT NULL AND p.e164 IS NULL
    """


def write_rejected_identifiers(con: duckdb.DuckDBPyConnection, lake_dir: Path, default_region: str) -> int:
    """Write `rejected_identifiers` from the `person_records` view; returns its row count."""
    return lake_views.write_query(
        con, lake_dir, "rejected_identifiers", rejected_identifiers_sql(default_region)
    )


def rejection_summary(con: duckdb.DuckDBPyConnection):
    """Counts per (id_type, reason) of the `rejected_identifiers` view, most frequent first, as a
    DataFrame for metadata."""
    return con.execute(
        "SELECT id_type, reason, count(*) AS records FROM rejected_identifiers GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"
    ).df()
