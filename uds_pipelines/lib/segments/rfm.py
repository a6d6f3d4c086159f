"""RFM quintile scores (recency, frequency, monetary) so segments can use them as profile columns."""

from __future__ import annotations

from datetime import datetime

import duckdb

from uds_pipelines.lib.segments.definitions import timestamp_literal

RFM_COLUMNS: dict[str, str] = {
    "rfm_recency_days": "BIGINT",
    "rfm_recency": "BIGINT",
    "rfm_frequency": "BIGINT",
    "rfm_monetary": "BIGINT",
}


def add_rfm_scores(
    con: duckdb.DuckDBPyConnection,
    profiles_sql: str,
    as_of: datetime,
    table: str = "_rfm_scores",
) -> str:
    """Score buyers 1-5 with `ntile(5)` and return SQL for the profiles with the RFM columns added.

    Only buyers (`orders_count > 0` with a `last_order_at`) are scored; everyone else gets NULL
    scores, so never-purchased people do not crowd the bottom quintiles. 5 is best: most recent
    last order, most orders, highest lifetime value. Ties are broken by `customer_id` so runs over
    the same data give the same scores. The narrow score table is materialized once as `table`;
    the returned SQL joins it to `profiles_sql` (columns of the same names there are replaced).
    """
    as_of_sql = timestamp_literal(as_of)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT customer_id,
            CAST(date_diff('day', last_order_at, {as_of_sql}) AS BIGINT) AS rfm_recency_days,
            CAST(ntile(5) OVER (ORDER BY last_order_at, customer_id) AS BIGINT) AS rfm_recency,
            CAST(ntile(5) OVER (ORDER BY orders_count, customer_id) AS BIGINT) AS rfm_frequency,
            CAST(ntile(5) OVER (ORDER BY coalesce(lifetime_value, 0), customer_id) AS BIGINT) AS rfm_monetary
        FROM {profiles_sql} AS p
        WHERE coalesce(orders_count, 0) > 0 AND last_order_at IS NOT NULL
        """
    )
    existing = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {profiles_sql} AS p").fetchall()}
    clash = [c for c in RFM_COLUMNS if c in existing]
    star = f"p.* EXCLUDE ({', '.join(clash)})" if clash else "p.*"
    scores = ", ".join(f"r.{c}" for c in RFM_COLUMNS)
    return f"(SELECT {star}, {scores} FROM {profiles_sql} AS p LEFT JOIN {table} AS r ON r.customer_id = p.customer_id)"
