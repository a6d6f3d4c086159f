"""Segment membership: evaluate every valid segment over the profiles, one failure never stops the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from uds_pipelines.lib import lake, lake_views
from uds_pipelines.lib.segments.definitions import (
    SegmentDefinition,
    SegmentError,
    explain_error,
    segment_select,
    validate_segments,
)
from uds_pipelines.lib.segments.history import update_history


@dataclass
class MembershipResult:
    """Temp tables `membership` (customer_id, segment, entered_at) and `history` (+ exited_at),
    with the columns of the catalog's `segment_membership` and `segment_history`."""

    membership: str
    history: str
    evaluated: list[str]
    errors: list[SegmentError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _evaluate_in_one_pass(
    con: duckdb.DuckDBPyConnection, segments: list[SegmentDefinition], profiles: str, as_of: datetime
) -> None:
    """All segments in a single scan of the profiles (one list of matching names per person)."""
    if not segments:
        return
    flags = ", ".join(f"CASE WHEN ({s.where}) THEN '{s.name}' END" for s in segments)
    con.execute(
        f"""
        INSERT INTO _segment_current
        SELECT DISTINCT customer_id, segment FROM (
            SELECT CAST(p.customer_id AS VARCHAR) AS customer_id, unnest([{flags}]) AS segment
            FROM {profiles} AS p
            CROSS JOIN (SELECT CAST(? AS TIMESTAMP WITH TIME ZONE) AS as_of) AS _params
        ) AS m
        WHERE segment IS NOT NULL
        """,
        [as_of],
    )


def compute_membership(
    con: duckdb.DuckDBPyConnection,
    segments: list[SegmentDefinition],
    profiles: str,
    as_of: datetime,
    previous_history: str | None = None,
    excluded_customers_sql: str | None = None,
    membership_table: str = "_segment_membership",
    history_table: str = "_segment_history",
) -> MembershipResult:
    """Evaluate `segments` over `profiles` at `as_of` and roll the history forward.

    `profiles` is a table, view or parenthesized query of profiles (the view `customer_profiles`),
    `previous_history` a table or view with the history's columns (the view `segment_history`;
    None: no history yet). The temp tables must not take catalog tables' names (those are views).

    Each segment is bound against the real columns first, then evaluated in its own statement, so
    a bad column or a runtime error (e.g. a failing cast) becomes a `SegmentError` for that segment
    only. `entered_at` of a member is when their current, unbroken stay began (from the history).
    Pass `add_rfm_scores(...)` as `profiles` when segments use RFM columns.
    """
    valid, errors = validate_segments(con, segments, profiles, as_of)
    columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {profiles} AS p").fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE _segment_current (customer_id VARCHAR, segment VARCHAR)")
    evaluated: list[str] = []
    try:
        _evaluate_in_one_pass(con, valid, profiles, as_of)
        evaluated = [s.name for s in valid]
    except duckdb.Error:
        # Some segment fails at run time: redo them one by one so only that one is lost.
        con.execute("DELETE FROM _segment_current")
        for segment in valid:
            try:
                con.execute(
                    "INSERT INTO _segment_current SELECT DISTINCT CAST(customer_id AS VARCHAR), "
                    f"'{segment.name}' FROM ({segment_select(segment, profiles)}) AS m",
                    [as_of],
                )
            except duckdb.Error as exc:
                errors.append(explain_error(segment, exc, columns))
                continue
            evaluated.append(segment.name)
    if excluded_customers_sql:
        con.execute(
            f"DELETE FROM _segment_current WHERE customer_id IN "
            f"(SELECT customer_id FROM {excluded_customers_sql} AS x WHERE customer_id IS NOT NULL)"
        )
    update_history(
        con,
        previous_history,
        "_segment_current",
        evaluated,
        as_of,
        table=history_table,
        excluded_customers_sql=excluded_customers_sql,
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {membership_table} AS
        -- The open history rows of this run's segments are exactly its members, with their entry time.
        SELECT customer_id, segment, entered_at FROM {history_table}
        WHERE exited_at IS NULL AND segment IN ({lake.sql_literal_list(evaluated) or "''"})
        """
    )
    con.execute("DROP TABLE _segment_current")
    counts = dict.fromkeys(evaluated, 0)
    for name, n in con.execute(f"SELECT segment, count(*) FROM {membership_table} GROUP BY ALL").fetchall():
        counts[name] = int(n)
    return MembershipResult(membership_table, history_table, evaluated, errors, counts)


def write_membership(
    con: duckdb.DuckDBPyConnection, result: MembershipResult, lake_dir: Path
) -> dict[str, int]:
    """Write the lake tables `segment_membership` and `segment_history` (checked against the
    catalog, each atomically); returns the rows written per table."""
    return {
        "segment_membership": lake_views.write_query(
            con, lake_dir, "segment_membership", f"SELECT * FROM {result.membership}"
        ),
        "segment_history": lake_views.write_query(
            con, lake_dir, "segment_history", f"SELECT * FROM {result.history}"
        ),
    }
