"""One call per batch of requests: suppress, erase, write access reports, and audit the outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from uds_pipelines.lib import lake
from uds_pipelines.lib.privacy.access import (
    build_access_report,
    drop_prefetched,
    prefetch_sources,
    write_access_report,
)
from uds_pipelines.lib.privacy.audit import audit_row, write_audit
from uds_pipelines.lib.privacy.erasure import ErasureReport, erase_subjects
from uds_pipelines.lib.privacy.requests import STATUS_INVALID, STATUS_NOTHING, subjects_from_frame
from uds_pipelines.lib.privacy.suppression import add_to_suppression, suppression_hashes
from uds_pipelines.lib.privacy.variants import collect_raw_values


@dataclass
class PrivacyRunResult:
    erasure: ErasureReport | None = None
    suppressed_added: int = 0
    access_files: list[Path] = field(default_factory=list)
    audit_rows: list[dict] = field(default_factory=list)

    def status_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.audit_rows:
            out[row["status"]] = out.get(row["status"], 0) + 1
        return out


def handle_requests(
    lake_dir: Path,
    exports_dir: Path,
    subjects: pd.DataFrame,
    *,
    key: bytes,
    warehouse_url: str | None,
    run_id: str,
    con: duckdb.DuckDBPyConnection | None = None,
    default_region: str = "US",
) -> PrivacyRunResult:
    """Process resolved erasure and access requests (consent requests are the consent ledger's job).

    Access reports are written before erasures run, so a person asking for both in one batch gets
    their data first. Erasure: suppression first (records landing meanwhile are dropped), then
    erasure. Every request gets one audit row: completed, nothing_found or invalid.
    """
    result = PrivacyRunResult()
    all_subjects = subjects_from_frame(subjects)
    own = con is None
    con = con or lake.duckdb_connection()
    try:
        access = [s for s in all_subjects if s.type == "access" and s.status not in (STATUS_INVALID, STATUS_NOTHING)]
        if access:
            collect_raw_values(con, lake_dir, access, default_region)
            sources = prefetch_sources(con, lake_dir, access)
            try:
                for s in access:
                    report = build_access_report(con, lake_dir, exports_dir, s, default_region, sources)
                    result.access_files.append(write_access_report(exports_dir, s.request_id, report))
            finally:
                drop_prefetched(con, sources)
        erasures = [s for s in all_subjects if s.type == "erasure" and s.status != STATUS_INVALID]
        if erasures:
            result.suppressed_added = add_to_suppression(lake_dir, suppression_hashes(erasures, key))
            result.erasure = erase_subjects(
                lake_dir,
                exports_dir,
                erasures,
                warehouse_url=warehouse_url,
                run_id=run_id,
                con=con,
                default_region=default_region,
            )
    finally:
        if own:
            con.close()
    per_request = result.erasure.per_request if result.erasure else {}
    for s in all_subjects:
        if s.type not in ("erasure", "access"):
            continue
        counts = per_request.get(s.request_id, {})
        if s.status == STATUS_INVALID:
            status, detail = "invalid", "request names no usable email, phone or customer_id"
        elif s.status == STATUS_NOTHING and not counts:
            status, detail = "nothing_found", "no record matched"
        else:
            status, detail = "completed", f"{len(s.records)} record(s), {len(s.customer_ids)} customer id(s)"
        result.audit_rows.append(
            audit_row(s.request_id, s.type, s.received_at, status, counts, run_id=run_id, detail=detail)
        )
    write_audit(lake_dir, result.audit_rows)
    return result
