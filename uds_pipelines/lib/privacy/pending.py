"""Requests still to do: landed and not yet audited, resolved to whole persons."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from uds_pipelines.lib import lake
from uds_pipelines.lib.privacy.audit import completed_request_ids
from uds_pipelines.lib.privacy.requests import resolve_subjects
from uds_pipelines.lib.privacy.tables import fresh_views


def pending_requests(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, types: tuple[str, ...] = ("erasure", "access")
) -> pd.DataFrame:
    """Landed requests of `types` without an audit row, oldest first, one row per request id."""
    fresh_views(con, lake_dir, "landed_privacy")
    requests = con.execute(
        f"SELECT * FROM landed_privacy WHERE type IN ({lake.sql_literal_list(types)}) "
        "ORDER BY received_at, request_id"
    ).df()
    done = completed_request_ids(lake_dir, con)
    return requests[~requests["request_id"].astype(str).isin(done)].drop_duplicates("request_id")


def resolve_pending(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, pending: pd.DataFrame, default_region: str = "US"
) -> pd.DataFrame:
    """`resolve_subjects` against the lake's identifiers and identity map."""
    fresh_views(con, lake_dir, "identifiers", "identity_map")
    return resolve_subjects(con, pending, "identifiers", "identity_map", default_region)
