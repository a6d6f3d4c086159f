"""One call per batch of requests: suppress, erase, write access reports, and audit the outcome.

Each request moves through durable states (see `state.py`): its landed row (received), the
in-progress entry of an erasure, its audit row (done). Every state is committed before the work
it announces, so a crash anywhere leaves a request that the next run finishes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from uds_pipelines.lib import connection
from uds_pipelines.lib.privacy.access import (
    build_access_report,
    drop_prefetched,
    prefetch_sources,
    write_access_report,
)
from uds_pipelines.lib.privacy.audit import audit_row, completed_request_ids, write_audit
from uds_pipelines.lib.privacy.crashpoints import crash_point
from uds_pipelines.lib.privacy.erasure import ErasureReport, erase_subjects, forget_requests
from uds_pipelines.lib.privacy.requests import (
    STATUS_FOUND,
    STATUS_INVALID,
    STATUS_NOTHING,
    Subject,
    subjects_from_frame,
)
from uds_pipelines.lib.privacy.state import (
    clear_in_progress,
    load_in_progress,
    merge_subjects,
    save_in_progress,
)
from uds_pipelines.lib.privacy.suppression import add_to_suppression, suppression_hashes
from uds_pipelines.lib.privacy.variants import collect_raw_values


@dataclass
class PrivacyRunResult:
    erasure: ErasureReport | None = None
    suppressed_added: int = 0
    access_files: list[Path] = field(default_factory=list)
    audit_rows: list[dict] = field(default_factory=list)
    erased: list[Subject] = field(default_factory=list)  # finished in this run: what verification looks for
    deferred: list[str] = field(default_factory=list)  # access requests left for the access_reports step

    def status_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.audit_rows:
            out[row["status"]] = out.get(row["status"], 0) + 1
        return out


def asks_about_erased(access: Subject, erasures: list[Subject]) -> bool:
    """Whether an access request concerns a person being erased in the same batch."""
    return access.request_id in about_erased([access], erasures)


def about_erased(access: list[Subject], erasures: list[Subject]) -> set[str]:
    """The request ids of `access` that concern a person being erased: one index of the erased
    people's ids, records and identifiers, then one lookup per request (a backlog holds tens of
    thousands of each; comparing every pair took hours at 10M events)."""
    customer_ids = {c for e in erasures for c in e.customer_ids}
    records = {r for e in erasures for r in e.records}
    identifiers = {i for e in erasures for i in (*e.identifiers, *e.requested)}
    return {
        a.request_id
        for a in access
        if not customer_ids.isdisjoint(a.customer_ids)
        or not records.isdisjoint(a.records)
        or not identifiers.isdisjoint((*a.identifiers, *a.requested))
    }


def _adopt_resumed_persons(access: list[Subject], resumed: list[Subject]) -> None:
    """An access request about a person whose erasure a crash interrupted resolves to the saved
    person: the identity graph may no longer know them, but most of their data is still there."""
    for subject in access:
        for erasure in resumed:
            if subject.status == STATUS_NOTHING and asks_about_erased(subject, [erasure]):
                subject.customer_ids, subject.records = list(erasure.customer_ids), list(erasure.records)
                subject.identifiers, subject.status = list(erasure.identifiers), STATUS_FOUND


def _audit_rows(
    subjects: list[Subject], per_request: dict[str, dict[str, int]], run_id: str, resumed: set[str]
) -> list[dict]:
    rows = []
    for s in subjects:
        counts = per_request.get(s.request_id, {})
        if s.status == STATUS_INVALID:
            status, detail = "invalid", "request names no usable email, phone or customer_id"
        elif s.status == STATUS_NOTHING and not counts:
            status, detail = "nothing_found", "no record matched"
        else:
            status, detail = "completed", f"{len(s.records)} record(s), {len(s.customer_ids)} customer id(s)"
        if s.request_id in resumed:
            detail += "; resumed after an interrupted run"
        rows.append(
            audit_row(s.request_id, s.type, s.received_at, status, counts, run_id=run_id, detail=detail)
        )
    return rows


def write_access_reports(
    con: duckdb.DuckDBPyConnection,
    lake_dir: Path,
    exports_dir: Path,
    subjects: list[Subject],
    default_region: str,
) -> list[Path]:
    """One report per answerable access request, each written atomically (no audit here)."""
    answerable = [s for s in subjects if s.status not in (STATUS_INVALID, STATUS_NOTHING)]
    if not answerable:
        return []
    collect_raw_values(con, lake_dir, answerable, default_region)
    sources = prefetch_sources(con, lake_dir, answerable)
    try:
        return [
            write_access_report(
                exports_dir,
                s.request_id,
                build_access_report(con, lake_dir, exports_dir, s, default_region, sources),
            )
            for s in answerable
        ]
    finally:
        drop_prefetched(con, sources)


def handle_access_requests(
    lake_dir: Path,
    exports_dir: Path,
    subjects: pd.DataFrame | list[Subject],
    *,
    run_id: str,
    con: duckdb.DuckDBPyConnection | None = None,
    default_region: str = "US",
) -> PrivacyRunResult:
    """Access requests only: every report is durable before its request is audited (done)."""
    access = [s for s in subjects_from_frame(subjects) if s.type == "access"]
    result = PrivacyRunResult()
    own = con is None
    con = con or connection.connect(lake_dir, default_region)
    try:
        result.access_files = write_access_reports(con, lake_dir, exports_dir, access, default_region)
        result.audit_rows = _audit_rows(access, {}, run_id, set())
        write_audit(lake_dir, result.audit_rows, con)
    finally:
        if own:
            con.close()
    return result


def handle_requests(
    lake_dir: Path,
    exports_dir: Path,
    subjects: pd.DataFrame | list[Subject],
    *,
    key: bytes,
    warehouse_url: str | None,
    run_id: str,
    con: duckdb.DuckDBPyConnection | None = None,
    default_region: str = "US",
    defer_access: bool = False,
) -> PrivacyRunResult:
    """Process resolved erasure and access requests (consent requests are the consent ledger's job).

    Access reports are written before erasures run, so a person asking for both in one batch gets
    their data first; with `defer_access`, access requests about nobody being erased are left
    (unaudited) for a later step that runs after profiles and segments. Erasure: in-progress entry,
    suppression (records landing meanwhile are dropped), erasure, audit, then the request rows.
    Erasures a crash interrupted are merged in and finished. Every handled request gets one audit
    row: completed, nothing_found or invalid.
    """
    result = PrivacyRunResult()
    fresh = subjects_from_frame(subjects)
    own = con is None
    con = con or connection.connect(lake_dir, default_region)
    try:
        audited = completed_request_ids(lake_dir, con)
        saved = load_in_progress(lake_dir, con)
        resumed = {s.request_id for s in saved if s.request_id not in audited}
        finished_before = [s for s in saved if s.request_id in audited]  # crashed after the audit
        all_subjects = merge_subjects(fresh, [s for s in saved if s.request_id in resumed])
        erasures = [s for s in all_subjects if s.type == "erasure" and s.status != STATUS_INVALID]
        access = [s for s in all_subjects if s.type == "access"]
        _adopt_resumed_persons(access, [s for s in erasures if s.request_id in resumed])
        if defer_access:
            concerned = about_erased(access, erasures)
            result.deferred = [s.request_id for s in access if s.request_id not in concerned]
            access = [s for s in access if s.request_id in concerned]
        handled = [s for s in all_subjects if s.type == "erasure"] + access
        unaudited = {s.request_id for s in all_subjects if s.type in ("erasure", "access")}
        result.access_files = write_access_reports(con, lake_dir, exports_dir, access, default_region)
        if erasures:
            # Spellings and Stripe objects are read while the lake still has them, then committed.
            collect_raw_values(con, lake_dir, erasures, default_region)
            save_in_progress(lake_dir, erasures + finished_before, con)
            crash_point("after_in_progress")
            hashes = suppression_hashes(erasures, key)
            result.suppressed_added = add_to_suppression(lake_dir, hashes, con=con)
            crash_point("after_suppression")
            result.erasure = erase_subjects(
                lake_dir,
                exports_dir,
                erasures,
                warehouse_url=warehouse_url,
                run_id=run_id,
                con=con,
                default_region=default_region,
                keep_requests=unaudited,
            )
            crash_point("before_audit")
        per_request = result.erasure.per_request if result.erasure else {}
        result.audit_rows = _audit_rows(handled, per_request, run_id, resumed)
        write_audit(lake_dir, result.audit_rows, con)
        crash_point("after_audit")
        result.erased = erasures + finished_before
        if result.erased:
            # the person's own requests of this batch go whatever spelling they name
            done = {s.request_id for s in result.erased} | about_erased(access, erasures)
            forget_requests(con, lake_dir, result.erased, done=done, keep=set(result.deferred))
            clear_in_progress(lake_dir, {s.request_id for s in result.erased}, con)
    finally:
        if own:
            con.close()
    return result
