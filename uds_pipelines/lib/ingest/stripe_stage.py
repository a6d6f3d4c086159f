"""The Stripe stages as whole operations: the Events API catch-up, and landing through the shared
inbox flow with Stripe's DuckDB batch parser (what the Stripe assets run)."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.ingest import stripe_api
from uds_pipelines.lib.ingest.conservation import conservation_violations
from uds_pipelines.lib.ingest.inbox_landing import (
    ClaimedFile,
    LandedBatch,
    LandingSummary,
    file_row,
    land_inbox_files,
)
from uds_pipelines.lib.ingest.stage import LandingStage, land_waiting
from uds_pipelines.lib.ingest.stripe_files import land_stripe_files, release_held_batch
from uds_pipelines.lib.ingest.suppression_gate import gate_stripe_batch, suppression_active

SOURCE = "stripe"


@dataclass
class EventsPull:
    skipped: str | None  # why nothing was pulled (no API key), else None
    written: int = 0
    already_landed: int = 0
    created_gte: int = 0
    file: Path | None = None


def pull_missed_events(settings: Settings, lookback_seconds: int, max_age_days: int) -> EventsPull:
    """Events the webhook receiver missed, from the Events API into inbox/stripe (landed ones skipped)."""
    reason = stripe_api.skip_reason(settings.stripe_api_key)
    if reason:
        return EventsPull(skipped=reason)
    newest = stripe_api.newest_landed_created(settings.lake_dir)
    created_gte = stripe_api.catch_up_window(newest, int(time.time()), lookback_seconds, max_age_days)
    known = stripe_api.landed_event_ids(settings.lake_dir, created_gte)
    events = stripe_api.fetch_events(settings.stripe_api_base, settings.stripe_api_key or "", created_gte)
    path, written, skipped = stripe_api.write_events_jsonl(events, settings.inbox_dir, known)
    return EventsPull(None, written, skipped, created_gte, path)


def land_stripe(settings: Settings, files: Sequence[str] = (), max_files: int = 0) -> LandingStage:
    """Land the waiting Stripe files as one batch, then check the ledger's arithmetic."""

    def land(paths: list[Path]) -> LandingSummary:
        lander = functools.partial(_land_stripe_batch, settings)
        return land_inbox_files(SOURCE, paths, settings.lake_dir, lander, one_batch=True)

    summary = land_waiting(settings, SOURCE, files, max_files, land)
    return LandingStage(summary, conservation_violations(settings.lake_dir, SOURCE, None))


def _land_stripe_batch(settings: Settings, batch: list[ClaimedFile]) -> LandedBatch:
    """Land the files in DuckDB; when anyone is suppressed, the batch is held, screened, then released,
    so an erased person's redelivered event never becomes visible."""
    screen = suppression_active(settings.lake_dir)
    hashes = {f.path: f.sha256 for f in batch}
    result = land_stripe_files([f.path for f in batch], settings.lake_dir, hold=screen, hashes=hashes)
    suppressed: dict[str, int] = {}
    if result.batch_path is not None and screen:
        suppressed = gate_stripe_batch(
            result.batch_path, settings.lake_dir, settings.suppression_key(), settings.default_region
        )
        release_held_batch(result.batch_path)
    stats = {s.file_name: s for s in result.files}
    rows = []
    for claimed in batch:
        s = stats.get(claimed.path.name)
        if s is None:
            continue
        dropped = suppressed.get(claimed.path.name, 0)
        rows.append(
            file_row(
                claimed.path.name,
                claimed.sha256,
                claimed.size_bytes,
                s.records_read,
                s.records_landed - dropped,
                s.records_quarantined + dropped,
                s.duplicates_skipped,
            )
        )
    return LandedBatch(rows)
