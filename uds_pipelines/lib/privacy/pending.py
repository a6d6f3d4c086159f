"""Requests still to do: landed and not yet audited, resolved to whole persons."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from uds_pipelines.lib import lake
from uds_pipelines.lib.lake import IDENTIFIERS
from uds_pipelines.lib.privacy.audit import completed_request_ids
from uds_pipelines.lib.privacy.requests import resolve_subjects

PRIVACY_COLUMNS = {"request_id": "VARCHAR", "type": "VARCHAR", "email": "VARCHAR", "phone": "VARCHAR",
                   "customer_id": "VARCHAR", "received_at": "TIMESTAMPTZ"}  # fmt: skip


def pending_requests(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, types: tuple[str, ...] = ("erasure", "access")
) -> pd.DataFrame:
    """Landed requests of `types` without an audit row, oldest first, one row per request id."""
    requests = con.execute(
        f"SELECT * FROM {lake.read_table_sql(lake_dir / lake.LANDED_PRIVACY, PRIVACY_COLUMNS)} "
        f"WHERE type IN ({lake.sql_literal_list(types)}) ORDER BY received_at, request_id"
    ).df()
    done = completed_request_ids(lake_dir)
    return requests[~requests["request_id"].astype(str).isin(done)].drop_duplicates("request_id")


def resolve_pending(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, pending: pd.DataFrame, default_region: str = "US"
) -> pd.DataFrame:
    """`resolve_subjects` against the lake's identifiers and identity map."""
    return resolve_subjects(
        con,
        pending,
        lake.read_table_sql(
            lake_dir / IDENTIFIERS,
            {"source": "VARCHAR", "record_id": "VARCHAR", "id_type": "VARCHAR", "id_value": "VARCHAR"},
        ),
        lake.read_table_sql(
            lake_dir / lake.IDENTITY_MAP,
            {"source": "VARCHAR", "record_id": "VARCHAR", "customer_id": "VARCHAR"},
        ),
        default_region,
    )
