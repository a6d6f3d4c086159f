"""Apply the tracking plan to the messages of a batch (ev_rows, see `sql.py`).

Unplanned track events are found in SQL. Planned ones (and identify traits, when the plan has a
traits schema) are validated in Python, the one place a row is touched in Python: only their
`properties` / `traits` text crosses over, decoded and passed to the compiled validator once per
distinct (event, payload) in each fetched batch.
The outcome is the temp table `ev_plan` (rid, violation, quarantine): one row per record the plan
has something to say about (one violation at most: a planned event is never unplanned)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import duckdb
import orjson
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
            {
                "event": e,
                "violation": v,
                "flagged": self.flagged[(e, v)],
                "quarantined": self.quarantined[(e, v)],
            }
            for e, v in keys
        ]


def apply_plan(con: duckdb.DuckDBPyConnection, plan: TrackingPlan, candidates: str) -> PlanOutcome:
    """Create `ev_plan` for the records of `candidates` (a SELECT of rid, type, event, properties,
    traits: the rows that would land) and return the counts per event and violation."""
    rids: list[int] = []
    found: list[str] = []
    events: list[str] = []
    if plan.violations != "allow":
        _validate(con, plan, candidates, rids, found, events)
    quarantine = plan.violations == "quarantine"
    outcome = PlanOutcome()
    for event, problem in zip(events, found, strict=True):
        (outcome.quarantined if quarantine else outcome.flagged)[(event, problem)] += 1
    table = pa.table(
        {
            "rid": pa.array(rids, pa.int64()),
            "violation": pa.array(found, pa.string()),
            "quarantine": pa.array([quarantine] * len(rids), pa.bool_()),
        }
    )
    con.register("ev_plan_arrow", table)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE ev_plan AS SELECT * FROM ev_plan_arrow")
    finally:
        con.unregister("ev_plan_arrow")
    if plan.unplanned_events != "allow":
        _add_unplanned(con, plan, candidates, outcome)
    return outcome


def _add_unplanned(con, plan: TrackingPlan, candidates: str, outcome: PlanOutcome) -> None:
    """Unplanned track events, found and recorded in SQL (they can be most of the traffic: no
    reason to ship them to Python and back)."""
    quarantine = plan.unplanned_events == "quarantine"
    con.execute(
        f"INSERT INTO ev_plan SELECT rid, '{UNPLANNED}', {str(quarantine).lower()} FROM ({candidates}) "
        "WHERE type = 'track' AND NOT list_contains($1::VARCHAR[], event)",
        [plan.planned_events],
    )
    counts = con.execute(
        f"SELECT r.event, count(*) FROM ev_plan p JOIN ({candidates}) r USING (rid) "
        f"WHERE p.violation = '{UNPLANNED}' GROUP BY 1"
    ).fetchall()
    for event, n in counts:
        (outcome.quarantined if quarantine else outcome.flagged)[(event, UNPLANNED)] += n


def _validate(con, plan: TrackingPlan, candidates: str, rids: list, found: list, events: list) -> None:
    """Validate the planned track events' properties and, with a traits schema, identify traits."""
    validators = plan.validators
    traits = plan.traits_validator
    identify = "OR type = 'identify'" if traits is not None else ""
    planned = "[" + ", ".join("'" + e.replace("'", "''") + "'" for e in plan.planned_events) + "]::VARCHAR[]"
    reader = con.sql(
        f"SELECT rid, type, event, properties, traits FROM ({candidates}) "
        f"WHERE (type = 'track' AND list_contains({planned}, event)) {identify}"
    ).to_arrow_reader(_FETCH_ROWS)
    # columns to Python lists: cheaper than a tuple per row; memory stays flat per batch
    for batch in reader:
        columns = [batch.column(i).to_pylist() for i in range(5)]
        seen: dict[tuple, str | None] = {}  # the same payload sent again (a product, a cart) is checked once
        for rid, kind, event, properties, trait_text in zip(*columns, strict=True):
            key = (event, properties) if kind == "track" else (None, trait_text)
            if key in seen:
                problem = seen[key]
            elif kind == "track":
                problem = seen[key] = violation(validators[event], _decode(properties), "properties")
            else:
                problem = seen[key] = violation(traits, _decode(trait_text), "traits")
            if problem is not None:
                rids.append(rid)
                found.append(problem)
                events.append(event if kind == "track" else "(identify)")


def _decode(text: str | None):
    """A missing `properties` validates as an empty object (Segment sends `{}` for none). orjson
    is several times faster than json; it refuses what json reads (integers past 64 bits)."""
    if text is None:
        return {}
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
