"""The landing stages of parsed inbox sources as whole operations (what the landing assets run)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import locks
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.ingest import inbox
from uds_pipelines.lib.ingest.conservation import conservation_violations
from uds_pipelines.lib.ingest.forms import parse_form_file
from uds_pipelines.lib.ingest.inbox_landing import LandingSummary
from uds_pipelines.lib.ingest.landing import SourceSpec, land_files
from uds_pipelines.lib.ingest.privacy_requests import parse_privacy_file
from uds_pipelines.lib.ingest.suppression_gate import gate_frame, suppression_active
from uds_pipelines.lib.ingest.surveys import parse_survey_file

SURVEYS = SourceSpec(
    "surveys",
    parse_survey_file,
    "landed_survey_responses",
    {"answers": "landed_survey_answers"},
    reads_external_ids=True,
)
FORMS = SourceSpec("forms", parse_form_file, "landed_forms", reads_external_ids=True)
PRIVACY = SourceSpec("privacy", parse_privacy_file, "landed_privacy")


@dataclass
class LandingStage:
    summary: LandingSummary
    violations: pd.DataFrame  # files whose records do not add up; empty when conserved

    @property
    def preview(self) -> pd.DataFrame | None:
        return self.summary.landed_frames[0] if self.summary.landed_frames else None


def land_waiting(
    settings: Settings,
    source: str,
    files: Sequence[str],
    max_files: int,
    land: Callable[[list[Path]], LandingSummary],
) -> LandingSummary:
    """Under the source's landing lock: put back files a dead run claimed, then `land` the waiting
    files asked for (`files` by name, empty for all; at most `max_files`, 0 for no cap)."""
    folder = settings.inbox(source)
    with locks.landing_lock(settings.locks_dir, source):
        inbox.release_stale_claims(folder)
        return land(inbox.select_waiting(folder, files, max_files))


def land_source(
    settings: Settings, spec: SourceSpec, files: Sequence[str] = (), max_files: int = 0
) -> LandingStage:
    """Land the waiting files of a parsed source, then recount what this run landed."""

    def land(paths: list[Path]) -> LandingSummary:
        # The gate is decided under the lock: an erasure holding it may be adding suppressions.
        gate = _suppression_gate(spec, settings)
        return land_files(spec, paths, settings.lake_dir, gate, settings.external_id_fields)

    summary = land_waiting(settings, spec.source, files, max_files, land)
    landed_now = {f["sha256"] for f in summary.new_files}
    violations = conservation_violations(settings.lake_dir, spec.source, spec.records_table, landed_now)
    return LandingStage(summary, violations)


def _suppression_gate(spec: SourceSpec, settings: Settings):
    # A suppressed person may still send privacy requests, so those are never gated.
    if spec.source == "privacy" or not suppression_active(settings.lake_dir):
        return None
    return functools.partial(
        gate_frame,
        key=settings.suppression_key(),
        lake_dir=settings.lake_dir,
        source=spec.record_source,
        default_region=settings.default_region,
    )
