"""Apply the tracking plan to the messages of a batch (ev_rows, see `sql.py`).

Unplanned track events are found in SQL. Planned ones (and identify traits, when the plan has a
traits schema) are validated in Python, the one place a row is touched in Python: only their
`properties` / `traits` text crosses over, decoded and passed to the compiled validator once each.
The outcome is the temp table `ev_plan` (rid, violation, quarantine): one row per record the plan
has something to say about."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from uds_pipelines.lib.tracking_plan import TrackingPlan, violation

UNPLANNED = "unplanned event"
_FETCH_ROWS = 100_000  # memory stays flat whatever the batch size


@dataclass
class PlanOutcome:
    """Per (event, violation): how many records were flagged (landed with it) or quarantined."""

    flagged: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)

    def add(self, other: PlanOutcome) -> None:
        self.flagged.update(other.flagged)
        self.quarantined.update(other.quarantined)

    def rows(self) -> list[dict]:
        keys = sorted(set(self.flagged) | set(self.quarantined))
        return [
            {"event": e, "violation": v, "flagged": self.flagged[(e, v)], "quarantined": self.quarantined[(e, v)]}
            for e, v in keys
        ]


def apply_plan(con: duckdb.DuckDBPyConnection, plan: TrackingPlan, candidates: str) -> PlanOutcome:
    """Create `ev_plan` for the records of `candidates` (a SELECT of rid, type, event, properties,
    traits: the rows that would land) and return the counts per event and violation."""
    rids: list[int] = []
    found: list[str] = []
    events: list[str] = []
    if plan.unplanned_events != "allow":
        for rid, event in con.execute(
            f"SELECT rid, event FROM ({candidates}) WHERE type = 'track' AND NOT list_contains($1::VARCHAR[], event)",
            [plan.planned_events],
        ).fetchall():
            rids.append(rid)
            found.append(UNPLANNED)
            events.append(event)
    if plan.violations != "allow":
        _validate(con, plan, candidates, rids, found, events)
    outcome = PlanOutcome()
    quarantine_unplanned = plan.unplanned_events == "quarantine"
    quarantine_violations = plan.violations == "quarantine"
    flags = [quarantine_unplanned if v == UNPLANNED else quarantine_violations for v in found]
    for event, v, q in zip(events, found, flags, strict=True):
        (outcome.quarantined if q else outcome.flagged)[(event, v)] += 1
    table = pa.table(
        {
            "rid": pa.array(rids, pa.int64()),
            "violation": pa.array(found, pa.string()),
            "quarantine": pa.array(flags, pa.bool_()),
        }
    )
    con.register("ev_plan_arrow", table)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE ev_plan AS SELECT * FROM ev_plan_arrow")
    finally:
        con.unregister("ev_plan_arrow")
    return outcome


def _validate(con, plan: TrackingPlan, candidates: str, rids: list, found: list, events: list) -> None:
    """Validate the planned track events' properties and, with a traits schema, identify traits."""
    validators = plan.validators
    traits = plan.traits_validator
    identify = "OR type = 'identify'" if traits is not None else ""
    cursor = con.execute(
        f"SELECT rid, type, event, properties, traits FROM ({candidates}) "
        f"WHERE (type = 'track' AND list_contains($1::VARCHAR[], event)) {identify}",
        [plan.planned_events],
    )
    while batch := cursor.fetchmany(_FETCH_ROWS):
        for rid, kind, event, properties, trait_text in batch:
            if kind == "track":
                problem = violation(validators[event], _decode(properties), "properties")
                name = event
            else:
                problem = violation(traits, _decode(trait_text), "traits")
                name = "(identify)"
            if problem is not None:
                rids.append(rid)
                found.append(problem)
                events.append(name)


def _decode(text: str | None):
    """A missing `properties` validates as an empty object (Segment sends `{}` for none)."""
    return {} if text is None else json.loads(text)
