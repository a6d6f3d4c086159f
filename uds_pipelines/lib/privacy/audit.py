"""The privacy request audit: one row per request with its outcome and counts, never the identifier."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from uds_pipelines.lib import catalog, lake_views
from uds_pipelines.lib.privacy.tables import read_table

AUDIT = "requests_audit"  # the catalog table
STATUSES = ("completed", "nothing_found", "invalid")


def audit_row(
    request_id: str,
    request_type: str,
    received_at: object,
    status: str,
    removed_counts: dict[str, int] | None = None,
    *,
    run_id: str = "",
    detail: str = "",
    completed_at: datetime | None = None,
) -> dict:
    """One audit row; `detail` must be free of personal data (counts, reasons)."""
    if status not in STATUSES:
        raise ValueError(f"unknown audit status {status!r}")
    counts = {k: int(v) for k, v in sorted((removed_counts or {}).items())}
    received = pd.Timestamp(received_at) if received_at is not None and not pd.isna(received_at) else None
    if received is not None and received.tzinfo is None:
        received = received.tz_localize("UTC")
    return {
        "request_id": str(request_id),
        "type": str(request_type),
        "received_at": received,
        "completed_at": pd.Timestamp(completed_at or datetime.now(UTC)),
        "status": status,
        "rows_removed": sum(counts.values()),
        "removed_counts": json.dumps(counts, sort_keys=True),
        "run_id": run_id,
        "detail": detail,
    }


def read_audit(lake_dir: Path, con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    return read_table(lake_dir, AUDIT, con).to_pandas()


def write_audit(
    lake_dir: Path, rows: list[dict], con: duckdb.DuckDBPyConnection | None = None
) -> Path | None:
    """Upsert rows by request_id into the audit table (a request's latest outcome wins), atomically."""
    if not rows:
        return None
    schema = catalog.table(AUDIT).schema
    current = read_audit(lake_dir, con)
    new = pd.DataFrame(rows, columns=schema.names)
    kept = current[~current["request_id"].isin(set(new["request_id"]))]
    combined = pd.concat([kept, new], ignore_index=True) if len(kept) else new
    for column in ("received_at", "completed_at"):
        combined[column] = pd.to_datetime(combined[column], utc=True)
    table = pa.Table.from_pandas(combined, preserve_index=False).cast(schema)
    return lake_views.write_arrow(lake_dir, AUDIT, table, con=con)


def completed_request_ids(lake_dir: Path, con: duckdb.DuckDBPyConnection | None = None) -> set[str]:
    """Requests already handled (any status), so a rerun does not process them again."""
    return set(read_audit(lake_dir, con)["request_id"].astype(str))
