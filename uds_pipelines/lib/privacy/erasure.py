"""Erasure: remove every row of the requested persons from the lake, the exports and the warehouse."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd

from uds_pipelines.lib import catalog, connection, lake
from uds_pipelines.lib.privacy.crashpoints import crash_point
from uds_pipelines.lib.privacy.exports_erase import erase_exports
from uds_pipelines.lib.privacy.matchers import Lookups, erasure_spec, forget_lookups, register_lookups
from uds_pipelines.lib.privacy.requests import STATUS_INVALID, Subject, subjects_from_frame
from uds_pipelines.lib.privacy.rewrite import MatchSpec, delete_where, quote_ident
from uds_pipelines.lib.privacy.tables import fresh_views
from uds_pipelines.lib.privacy.variants import collect_raw_values
from uds_pipelines.lib.privacy.warehouse_erase import erase_warehouse

# lake/privacy: the privacy layer's own tables (suppression hashes, the audit, and the erasures in
# progress that this erasure works from), left out of the rewrite
PRIVACY_DIR = catalog.table("suppression").path.rsplit("/", 1)[0]
# Top folders of the batch-file tables (landed/…, quarantine)
BATCH_FOLDERS = tuple(sorted({t.path.split("/")[0] for t in catalog.TABLES.values() if t.kind == "folder"}))


@dataclass
class ErasureReport:
    """Counts only (no identifiers): rows removed per table, per request, and what was rewritten."""

    run_id: str
    request_ids: list[str] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)
    per_request: dict[str, dict[str, int]] = field(default_factory=dict)
    files_rewritten: int = 0
    files_deleted: int = 0
    bytes_rewritten: int = 0
    export_rows_removed: dict[str, int] = field(default_factory=dict)
    export_files_deleted: list[str] = field(default_factory=list)
    warehouse_removed: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_removed(self) -> int:
        return sum(self.removed.values())

    def as_metadata(self) -> dict:
        return {
            "requests": len(self.request_ids),
            "rows_removed": self.total_removed,
            "files_rewritten": self.files_rewritten,
            "files_deleted": self.files_deleted,
            "bytes_rewritten": self.bytes_rewritten,
            "removed": dict(self.removed),
            "seconds": round(self.seconds, 3),
        }


def table_label(path: Path, lake_dir: Path) -> str:
    """`landed/stripe` for batch folders, `identity/identity_map` for single-file tables."""
    rel = path.relative_to(lake_dir)
    if rel.parts[0] in BATCH_FOLDERS:
        return "/".join(rel.parts[:-1])
    return str(rel.with_suffix(""))


def _bump(target: dict[str, int], key: str, n: int) -> None:
    target[key] = target.get(key, 0) + n


def sparing_requests(
    spec_for: Callable[[dict[str, str]], MatchSpec | None], keep: set[str]
) -> Callable[[dict[str, str]], MatchSpec | None]:
    """`spec_for`, except that rows whose `request_id` is in `keep` never match."""
    if not keep:
        return spec_for
    kept = lake.sql_literal_list(sorted(keep))

    def spec(columns: dict[str, str]) -> MatchSpec | None:
        found = spec_for(columns)
        column = next((c for c in columns if c.lower() == "request_id"), None)
        if found is None or column is None:
            return found
        spare = f"coalesce(CAST({quote_ident(column)} AS VARCHAR) NOT IN ({kept}), true)"
        return replace(found, predicate=f"({found.predicate}) AND {spare}")

    return spec


def erase_subjects(
    lake_dir: Path,
    exports_dir: Path,
    subjects: pd.DataFrame | list[Subject],
    *,
    warehouse_url: str | None,
    run_id: str,
    con: duckdb.DuckDBPyConnection | None = None,
    default_region: str = "US",
    keep_requests: set[str] | None = None,
) -> ErasureReport:
    """Remove every row belonging to the subjects (from `resolve_subjects`) and return counts.

    Rows go when an id column holds one of the person's ids (customer id, Stripe customer/object
    ids, survey response ids, form submission ids, identity record ids/identifiers) or when any
    text column contains one of their emails/phones/ids in any spelling found in the lake
    (case-insensitive, on word boundaries). Only affected files are rewritten, atomically; a file
    left empty is deleted. Add the subjects to the suppression list first, so records landing
    meanwhile are dropped at landing. Rows of `keep_requests` (requests not yet audited) stay in
    `landed/privacy` until `forget_requests`, so a crash cannot lose a request.
    """
    started = time.perf_counter()
    usable = [s for s in subjects_from_frame(subjects) if s.status != STATUS_INVALID]
    report = ErasureReport(run_id=run_id, request_ids=[s.request_id for s in usable])
    if not usable:
        return report
    # A killed writer's temp file may hold the person in clear and no rewrite reaches it; live
    # writers' files stay (the verification names them if they hold the person).
    for root in (lake_dir, exports_dir):
        lake.sweep_stale_temps_under(root)
    own = con is None
    con = con or connection.connect(lake_dir, default_region)
    try:
        collect_raw_values(con, lake_dir, usable, default_region)
        lookups = register_lookups(con, usable)
        privacy_files = (
            set((lake_dir / PRIVACY_DIR).glob("*.parquet")) if (lake_dir / PRIVACY_DIR).is_dir() else set()
        )
        changes, tags = delete_where(
            con,
            lake_dir,
            sparing_requests(lambda cols: erasure_spec(cols, lookups.scanner), keep_requests or set()),
            exclude=privacy_files,
        )
        if changes:  # batch files were rewritten or deleted under the views on `con`
            fresh_views(con, lake_dir, *catalog.TABLES)
        for change in changes:
            _bump(report.removed, table_label(change.path, lake_dir), change.rows_removed)
            report.files_deleted += int(change.deleted)
            report.files_rewritten += int(not change.deleted)
            report.bytes_rewritten += change.bytes_written
        for (path, rid), n in tags.items():
            _bump(report.per_request.setdefault(rid, {}), table_label(path, lake_dir), n)
        crash_point("after_lake_rewrite")
        exports = erase_exports(exports_dir, usable, lookups.scanner)
        report.export_rows_removed = exports.rows_removed
        report.export_files_deleted = exports.files_deleted
        report.bytes_rewritten += exports.bytes_written
        for rid, counts in exports.per_request.items():
            for key, n in counts.items():
                _bump(report.per_request.setdefault(rid, {}), key, n)
        if exports.rows_removed or exports.files_deleted:
            report.removed["exports"] = sum(exports.rows_removed.values()) + len(exports.files_deleted)
        crash_point("after_exports")
        owners = {c: s.request_id for s in usable for c in s.customer_ids}
        for table, counts in erase_warehouse(warehouse_url, owners).items():
            report.warehouse_removed[table] = sum(counts.values())
            _bump(report.removed, f"warehouse/{table}", sum(counts.values()))
            for rid, n in counts.items():
                _bump(report.per_request.setdefault(rid, {}), f"warehouse/{table}", n)
        crash_point("after_warehouse")
    finally:
        forget_lookups(con)
        if own:
            con.close()
    report.seconds = time.perf_counter() - started
    return report


def forget_requests(
    con: duckdb.DuckDBPyConnection,
    lake_dir: Path,
    subjects: list[Subject],
    *,
    done: set[str],
    keep: set[str],
) -> int:
    """After the audit: the request rows the erasure kept go too, those of the `done` requests
    (whatever spelling they name) and any other naming the persons. Rows of `keep` (requests still
    waiting for their own step) stay. Returns rows removed."""
    usable = [s for s in subjects if s.status != STATUS_INVALID]
    done_list = lake.sql_literal_list(sorted(done)) if done else "NULL"

    def spec(columns: dict[str, str]) -> MatchSpec | None:
        found = erasure_spec(columns, lookups.scanner) if usable else None
        column = next((c for c in columns if c.lower() == "request_id"), None)
        if column is None:
            return found
        named = f"CAST({quote_ident(column)} AS VARCHAR) IN ({done_list})"
        return (
            MatchSpec(predicate=named)
            if found is None
            else replace(found, predicate=f"({found.predicate}) OR {named}")
        )

    try:
        lookups = register_lookups(con, usable) if usable else Lookups(None)
        landed = catalog.path(lake_dir, "landed_privacy")
        changes, _tags = delete_where(con, landed, sparing_requests(spec, keep))
        if changes:
            fresh_views(con, lake_dir, "landed_privacy")
    finally:
        forget_lookups(con)
    return sum(change.rows_removed for change in changes)
