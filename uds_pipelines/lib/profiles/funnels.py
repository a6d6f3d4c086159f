"""Funnel conversion KPIs (`traits.FunnelDefinition`) over `person_events`, as of the run.

A person reaches step k when they did its event at or after the time they first reached step k-1
(step 1: its first occurrence), within the funnel's window before as-of. People are customers, and
visitors not tied to one yet count by their anonymousId, so the first steps include the browsing
that never led to a sign-up. All funnels in one query: a CTE per step, each joining only the
events of its own name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from uds_pipelines.lib import connection, lake, lake_views
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.profiles.traits import FunnelDefinition, TraitError, load_traits


@dataclass
class FunnelStage:
    table: pd.DataFrame  # the rows written to `event_funnels`
    errors: list[TraitError]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def funnel_sql(funnels: list[FunnelDefinition], as_of: datetime, events: str = "person_events") -> str:
    """One query: (funnel, step, event, people) for every step of every funnel."""
    at = lake.timestamp_literal(as_of)
    ctes, selects = [], []
    for f_index, funnel in enumerate(funnels):
        since = f"AND timestamp > {at} - INTERVAL {funnel.window}" if funnel.window else ""
        base = f"_f{f_index}"
        names = ", ".join(_quote(s) for s in funnel.steps)
        ctes.append(
            f"""{base} AS (
                SELECT coalesce(customer_id, 'anon:' || anonymous_id) AS person, event,
                       -- the order of events: a step needs an event after the previous step's own
                       struct_pack(t := timestamp, m := message_id) AS k
                FROM {events}
                WHERE event IN ({names}) AND timestamp <= {at} {since}
                  AND coalesce(customer_id, anonymous_id) IS NOT NULL
            )"""
        )
        for k, step in enumerate(funnel.steps):
            name = f"{base}_s{k}"
            if k == 0:
                body = (
                    f"SELECT person, min(k) AS k FROM {base} WHERE event = {_quote(step)} GROUP BY 1"
                )
            else:
                body = (
                    f"SELECT e.person, min(e.k) AS k FROM {base} e JOIN {base}_s{k - 1} p USING (person) "
                    f"WHERE e.event = {_quote(step)} AND e.k > p.k GROUP BY 1"
                )
            ctes.append(f"{name} AS ({body})")
            selects.append(
                f"SELECT {_quote(funnel.name)} AS funnel, {k + 1} AS step, {_quote(step)} AS event, "
                f"count(*) AS people FROM {name}"
            )
    return "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL ".join(selects)


def funnel_table(
    con: duckdb.DuckDBPyConnection, funnels: list[FunnelDefinition], as_of: datetime
) -> pd.DataFrame:
    """The `event_funnels` rows: people per step and the conversion from the previous and the first step."""
    columns = [
        "as_of",
        "funnel",
        "step",
        "event",
        "people",
        "conversion_from_previous",
        "conversion_from_start",
    ]
    if not funnels:
        return pd.DataFrame({c: [] for c in columns})
    frame = con.execute(funnel_sql(funnels, as_of)).df().sort_values(["funnel", "step"], ignore_index=True)
    grouped = frame.groupby("funnel")["people"]
    previous, first = grouped.shift(1), grouped.transform("first")
    frame["conversion_from_previous"] = (frame["people"] / previous.where(previous > 0)).round(4)
    frame["conversion_from_start"] = (frame["people"] / first.where(first > 0)).round(4)
    frame.loc[frame["step"] == 1, "conversion_from_previous"] = None
    frame.insert(0, "as_of", pd.Timestamp(as_of))
    return frame[columns]


def build_funnels(settings: Settings) -> FunnelStage:
    """Count every funnel of `UDS_TRAITS_FILE` as of the run and write `event_funnels`."""
    _traits, funnels, errors = load_traits(settings.traits_file)
    as_of = settings.as_of()
    con = connection.for_settings(settings)
    try:
        table = funnel_table(con, funnels, as_of)
    finally:
        con.close()
    lake_views.write_arrow(settings.lake_dir, "event_funnels", table)
    return FunnelStage(table, [e for e in errors if e.section != "traits"])
