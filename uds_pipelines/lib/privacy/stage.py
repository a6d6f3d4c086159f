"""The privacy stages as whole operations over the lake (what the privacy assets run): requests
resolved to whole persons, handled under the landing locks, erasure verified."""

from __future__ import annotations

import time
from dataclasses import dataclass

from uds_pipelines.lib import connection, locks
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.privacy.pending import pending_requests, resolve_pending
from uds_pipelines.lib.privacy.verify import Finding, verify_erased
from uds_pipelines.lib.privacy.workflow import PrivacyRunResult, handle_access_requests, handle_requests


@dataclass
class PrivacyStage:
    pending: int  # requests found waiting
    result: PrivacyRunResult
    identifiers_checked: int  # erased identifiers the verification looked for
    findings: list[Finding]
    verify_seconds: float = 0.0  # the verification scan of the data folder and the warehouse

    @property
    def leftovers(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "leftover"]


@dataclass
class AccessStage:
    pending: int
    result: PrivacyRunResult


def run_privacy_requests(settings: Settings, run_id: str) -> PrivacyStage:
    """Erasures resolved to whole persons: erased everywhere, suppressed, audited, then verified."""
    lake_dir = settings.lake_dir
    # No landing may run while people are erased and suppressed, or a batch landing in between
    # could bring a person back after the scan: every inbox source's landing lock is held.
    with locks.landing_locks(settings.locks_dir):
        con = connection.for_settings(settings)
        try:
            pending = pending_requests(con, lake_dir)
            subjects = resolve_pending(con, lake_dir, pending, settings.default_region)
            result = handle_requests(
                lake_dir,
                settings.exports_dir,
                subjects,
                key=settings.suppression_key(),
                warehouse_url=settings.warehouse_url,
                run_id=run_id,
                con=con,
                default_region=settings.default_region,
                defer_access=True,  # answered by access_reports, once profiles and segments exist
            )
        finally:
            # DuckDB keeps the memory of what the erasure read until its connection closes (at
            # 10M events the stage sat at 1.7 GB before the scan): the scan gets a fresh one
            con.close()
        # The erased identifiers live in memory for this run only, for the verification scan.
        needles = {v for s in result.erased for _, v in s.identifiers}  # customer ids included
        # and their events' user ids, as erasure searched them (variants.subject_needles)
        needles |= {v for s in result.erased for _, v in s.event_ids("user") if not v.strip().isdigit()}
        started = time.perf_counter()
        findings = []
        if needles:
            con = connection.for_settings(settings)
            try:
                findings = verify_erased(
                    settings.data_dir,
                    settings.warehouse_url,
                    needles,
                    con=con,
                    storage_root=settings.storage_root,
                )
            finally:
                con.close()
        verify_seconds = time.perf_counter() - started
    return PrivacyStage(len(pending), result, len(needles), findings, verify_seconds)


def run_access_reports(settings: Settings, run_id: str) -> AccessStage:
    """Access requests answered once profiles and segments exist: one report each, then audited."""
    con = connection.for_settings(settings)
    # The privacy landing lock serializes audit writers (run_privacy_requests holds it too) and
    # keeps requests from landing half way through.
    with locks.landing_lock(settings.locks_dir, "privacy"):
        try:
            pending = pending_requests(con, settings.lake_dir, types=("access",))
            subjects = resolve_pending(con, settings.lake_dir, pending, settings.default_region)
            result = handle_access_requests(
                settings.lake_dir,
                settings.exports_dir,
                subjects,
                run_id=run_id,
                con=con,
                default_region=settings.default_region,
            )
        finally:
            con.close()
    return AccessStage(len(pending), result)
