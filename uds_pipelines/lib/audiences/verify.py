"""Independent verification of the persisted audience members before anything is exported."""

from __future__ import annotations

import duckdb


def verify_members(
    con: duckdb.DuckDBPyConnection,
    members_table: str = "audience_members",
    effective_consent_table: str = "effective_consent",
    excluded_customers_sql: str | None = None,
) -> dict:
    """Count persisted rows without consent for their audience's purpose, and erased or
    suppressed people, straight from the tables (not from the filter that planned them).

    `members_table` and `effective_consent_table` are tables or views (by default the views of
    the lake tables); `excluded_customers_sql` a query of excluded `customer_id`s.
    Returns counts per audience and totals; no personal data.
    """
    excluded = excluded_customers_sql or "(SELECT NULL::VARCHAR AS customer_id WHERE false)"
    rows = con.execute(
        f"""
        WITH m AS (SELECT * FROM {members_table}),
        consent AS (
            SELECT customer_id, purpose, bool_and(granted) AS granted FROM {effective_consent_table} c GROUP BY ALL
        )
        SELECT m.audience, count(*) AS rows,
               count(*) FILTER (WHERE NOT coalesce(c.granted, false)) AS without_consent,
               count(*) FILTER (WHERE m.customer_id IN (SELECT customer_id FROM {excluded} x)) AS excluded
        FROM m LEFT JOIN consent c ON c.customer_id = m.customer_id AND c.purpose = m.purpose
        GROUP BY m.audience ORDER BY m.audience
        """
    ).fetchall()
    by_audience = {
        a: {"rows": int(n), "without_consent": int(w), "erased_or_suppressed": int(x)} for a, n, w, x in rows
    }
    return {
        "rows": sum(v["rows"] for v in by_audience.values()),
        "rows_without_consent": sum(v["without_consent"] for v in by_audience.values()),
        "rows_erased_or_suppressed": sum(v["erased_or_suppressed"] for v in by_audience.values()),
        "by_audience": by_audience,
    }
