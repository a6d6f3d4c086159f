"""Segment history kept across runs: when each person entered and left each segment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.lake import timestamp_literal


def _empty_history() -> str:
    """A typed empty relation with the columns of the catalog's `segment_history`."""
    fields = catalog.table("segment_history").schema
    cols = ", ".join(f"CAST(NULL AS {catalog.duckdb_type(f.type)}) AS {f.name}" for f in fields)
    return f"(SELECT {cols} WHERE false)"


def update_history(
    con: duckdb.DuckDBPyConnection,
    previous_history: str | None,
    current_table: str,
    evaluated_segments: Sequence[str],
    as_of: datetime,
    table: str = "_segment_history",
    excluded_customers_sql: str | None = None,
) -> str:
    """Previous history + current membership `(customer_id, segment)` -> new history temp table.

    `previous_history` is a table or view with the columns of `segment_history` (e.g. that view;
    None: no history yet), `current_table` the current `(customer_id, segment)` pairs. `table`
    must not be a catalog table's name: that name is the table's view.

    New members open a row with `entered_at = as_of`; members who left get `exited_at = as_of`;
    leaving and coming back opens a new row. Open rows of segments not in `evaluated_segments`
    (failed this run, or removed from the YAML) are left as they were: their state is unknown, and
    a config typo must not look like everyone leaving. Rows of `excluded_customers_sql`
    (erased people, a relation with `customer_id`) are removed entirely.
    """
    previous = previous_history or _empty_history()
    at = timestamp_literal(as_of)
    evaluated = lake.sql_literal_list(evaluated_segments) or "''"  # never a segment name
    keep = (
        f"WHERE customer_id NOT IN (SELECT customer_id FROM {excluded_customers_sql} AS x "
        "WHERE customer_id IS NOT NULL)"
        if excluded_customers_sql
        else ""
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        WITH prev AS (
            SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(segment AS VARCHAR) AS segment,
                   entered_at, exited_at
            FROM {previous} AS h
        ),
        cur AS (SELECT DISTINCT CAST(customer_id AS VARCHAR) AS customer_id, segment FROM {current_table} AS c),
        open_prev AS (SELECT * FROM prev WHERE exited_at IS NULL),
        merged AS (
            SELECT * FROM prev WHERE exited_at IS NOT NULL
            UNION ALL
            -- One outer join: still in (keep open), left (close), new (open at as_of).
            SELECT coalesce(o.customer_id, c.customer_id), coalesce(o.segment, c.segment),
                coalesce(o.entered_at, {at}),
                CASE WHEN o.customer_id IS NULL OR c.customer_id IS NOT NULL OR o.segment NOT IN ({evaluated})
                     THEN CAST(NULL AS TIMESTAMP WITH TIME ZONE) ELSE {at} END
            FROM open_prev AS o
            FULL OUTER JOIN cur AS c ON c.customer_id = o.customer_id AND c.segment = o.segment
        )
        SELECT * FROM merged {keep}
        """
    )
    return table


def membership_from_history(history_table: str) -> str:
    """Current membership `(customer_id, segment, entered_at)`: the open history rows (a query)."""
    return f"(SELECT customer_id, segment, entered_at FROM {history_table} AS h WHERE exited_at IS NULL)"


def changes_since_sql(history_table: str, since: datetime) -> str:
    """Who entered or left which segment after `since`: `(customer_id, segment, change, changed_at)`,
    a parenthesized query over `history_table` (a table or view such as `segment_history`)."""
    at = timestamp_literal(since)
    return f"""(
        SELECT customer_id, segment, 'entered' AS change, entered_at AS changed_at
        FROM {history_table} AS h WHERE entered_at > {at}
        UNION ALL
        SELECT customer_id, segment, 'exited' AS change, exited_at AS changed_at
        FROM {history_table} AS h WHERE exited_at > {at}
    )"""
