"""RFM quintile scores (recency, frequency, monetary): profile columns (`customer_profiles`) that
segments can use like any other; profiles compute them, so they live here, upstream of segments."""

from __future__ import annotations

from datetime import datetime

import duckdb

from uds_pipelines.lib.lake import timestamp_literal

RFM_COLUMNS: dict[str, str] = {
    "rfm_recency_days": "BIGINT",
    "rfm_recency": "BIGINT",
    "rfm_frequency": "BIGINT",
    "rfm_monetary": "BIGINT",
}


def quintile_score(value_sql: str, partition_sql: str | None = None) -> str:
    """SQL for a 1-5 score of `value_sql` among the scored buyers: 1 + the number of whole fifths
    of buyers whose value is strictly lower, i.e. `1 + floor(5 * (rank - 1) / count)`.

    Ties get equal scores: `rank()` gives equal values the same rank, so the score depends on the
    values alone, never on row order or on the (random) customer ids. `ntile(5)` instead cut tied
    values apart by whatever broke the tie, so two runs over the same input scored the same person
    differently. With distinct values this equals `ntile(5)` (n divisible by 5); a large tied group
    shares the score of its lowest member (every one-order buyer gets the same `rfm_frequency`),
    so the five scores need not be equally full. `partition_sql` scores each of its groups apart.
    """
    over = f"PARTITION BY {partition_sql}" if partition_sql else ""
    return f"CAST(1 + floor(5 * (rank() OVER ({over} ORDER BY {value_sql}) - 1) / count(*) OVER ({over})) AS BIGINT)"


def add_rfm_scores(
    con: duckdb.DuckDBPyConnection,
    profiles_table: str,
    as_of: datetime,
    table: str = "_rfm_scores",
) -> str:
    """Score buyers 1-5 by quintile and return SQL for the profiles with the RFM columns added.

    Only buyers (`orders_count > 0` with a `last_order_at`) are scored; everyone else gets NULL
    scores, so never-purchased people do not crowd the bottom quintiles. 5 is best: most recent
    last order, most orders, highest lifetime value in the reporting currency
    (`lifetime_value_reporting`; a buyer without one has no monetary score). See `quintile_score`
    for the tie rule: equal values always get equal scores. The narrow score table is materialized once as `table`;
    the returned parenthesized query joins it to `profiles_table` (a table or view; columns of the same names there are replaced).
    """
    as_of_sql = timestamp_literal(as_of)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT customer_id,
            CAST(date_diff('day', last_order_at, {as_of_sql}) AS BIGINT) AS rfm_recency_days,
            {quintile_score("last_order_at")} AS rfm_recency,
            {quintile_score("orders_count")} AS rfm_frequency,
            -- value in the reporting currency: raw amounts would rank 1,500 yen above 50 dollars;
            -- buyers without a rate are ranked apart and get no score
            CASE WHEN lifetime_value_reporting IS NOT NULL
                 THEN {quintile_score("lifetime_value_reporting", "lifetime_value_reporting IS NULL")} END
                AS rfm_monetary
        FROM {profiles_table} AS p
        WHERE coalesce(orders_count, 0) > 0 AND last_order_at IS NOT NULL
        """
    )
    existing = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {profiles_table} AS p").fetchall()}
    clash = [c for c in RFM_COLUMNS if c in existing]
    star = f"p.* EXCLUDE ({', '.join(clash)})" if clash else "p.*"
    scores = ", ".join(f"r.{c}" for c in RFM_COLUMNS)
    return f"(SELECT {star}, {scores} FROM {profiles_table} AS p LEFT JOIN {table} AS r ON r.customer_id = p.customer_id)"
