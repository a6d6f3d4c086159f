"""Events landing as a whole operation (what the `landed_events` asset runs): the shared inbox flow
(claim, skip content already landed, ledger, release) with the DuckDB batch lander, the tracking
plan from Settings, then the conservation recount of what this run landed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.ingest.conservation import conservation_violations
from uds_pipelines.lib.ingest.events.landing import LEDGER_SOURCE, TABLE, land_event_files, stored_per_input
from uds_pipelines.lib.ingest.events.plan_check import PlanOutcome
from uds_pipelines.lib.ingest.inbox_landing import ClaimedFile, LandedBatch, LandingSummary, land_inbox_files
from uds_pipelines.lib.ingest.stage import LandingStage, land_waiting
from uds_pipelines.lib.ingest.suppression_gate import suppression_active

SOURCE = LEDGER_SOURCE  # the inbox source: ledger rows, locks, the sensor


@dataclass
class EventsStage(LandingStage):
    plan: PlanOutcome = field(default_factory=PlanOutcome)
    days: set[str] = field(default_factory=set)

    def violations_table(self) -> pd.DataFrame:
        """Tracking-plan findings per event and violation, most frequent first."""
        rows = self.plan.rows()
        frame = pd.DataFrame(rows, columns=["event", "violation", "flagged", "quarantined"])
        total = frame["flagged"] + frame["quarantined"]
        return frame.assign(_n=total).sort_values(["_n", "event"], ascending=[False, True]).drop(columns="_n")


def land_events(settings: Settings, files: Sequence[str] = (), max_files: int = 0) -> EventsStage:
    """Land the waiting event files as one DuckDB batch and recount the rows of every file landed."""
    plan = settings.tracking_plan()  # read under no lock: a broken plan fails before any claim
    outcome = PlanOutcome()
    days: set[str] = set()
    outputs: list[str] = []

    def lander(batch: list[ClaimedFile]) -> LandedBatch:
        # decided here, under the landing lock: an erasure holding it may be adding suppressions
        key = settings.suppression_key() if suppression_active(settings.lake_dir) else None
        landed = land_event_files(
            batch, settings.lake_dir, plan, settings.duckdb_memory_limit, key, settings.default_region
        )
        outcome.add(landed.plan)
        days.update(landed.days)
        if landed.output is not None:
            outputs.append(landed.output)
        return LandedBatch(landed.rows, landed.preview)

    def land(paths: list[Path]) -> LandingSummary:
        return land_inbox_files(SOURCE, paths, settings.lake_dir, lander, one_batch=True)

    summary = land_waiting(settings, SOURCE, files, max_files, land)
    landed_now = {f["sha256"] for f in summary.new_files}
    stored = stored_per_input(settings.lake_dir, outputs, summary.new_files)
    violations = conservation_violations(settings.lake_dir, SOURCE, TABLE, landed_now, stored)
    return EventsStage(summary, violations, outcome, days)
