"""Shared steps for the privacy tests: resolve requests against the hand-built lake."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import lake, lake_views
from uds_pipelines.lib.privacy import resolve_subjects


def request(request_id: str, rtype: str = "erasure", **ids: str | None) -> dict:
    row = {"request_id": request_id, "type": rtype, "email": None, "phone": None, "customer_id": None}
    row["received_at"] = pd.Timestamp("2025-06-02T00:00:00Z")
    row.update(ids)
    return row


def resolve(con, lake_dir: Path, rows: list[dict]) -> pd.DataFrame:
    lake_views.register(con, lake_dir, ["identifiers", "identity_map"])
    return resolve_subjects(con, pd.DataFrame(rows), "identifiers", "identity_map")


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime (ns) of every file under root."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            out[str(path.relative_to(root))] = (lake.sha256_file(path), path.stat().st_mtime_ns)
    return out
