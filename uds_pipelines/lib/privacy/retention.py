"""Retention: delete landed raw rows past the retention period and old quarantine rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from uds_pipelines.lib import lake
from uds_pipelines.lib.privacy.rewrite import MatchSpec, delete_where

# folder -> timestamp column deciding a row's age (rows without one are kept: age unknown).
AGED_TABLES = {
    lake.LANDED_STRIPE: "created",
    f"{lake.LANDED_SURVEYS}/responses": "submitted_at",
    lake.LANDED_FORMS: "submitted_at",
}


def _older_than(column: str, cutoff: datetime) -> str:
    return f"CAST({column} AS TIMESTAMPTZ) < TIMESTAMPTZ '{cutoff.isoformat()}'"


def apply_retention(
    lake_dir: Path,
    as_of: datetime,
    retention_days: int = 730,
    quarantine_days: int = 90,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, int]:
    """Delete rows older than the cutoffs; rewrite only affected files. Returns rows removed per table.

    Survey answers go with their responses (they carry no timestamp of their own).
    """
    own = con is None
    con = con or lake.duckdb_connection()
    removed: dict[str, int] = {}
    cutoff = as_of - timedelta(days=retention_days)
    try:
        responses = lake_dir / lake.LANDED_SURVEYS / "responses"
        expired_sql = lake.read_table_sql(
            responses, {"response_id": "VARCHAR", "submitted_at": "TIMESTAMPTZ"}
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _prv_expired AS SELECT DISTINCT response_id FROM {expired_sql} "
            f"WHERE {_older_than('submitted_at', cutoff)}"
        )
        for folder, column in AGED_TABLES.items():
            removed[folder] = _delete(con, lake_dir / folder, column, _older_than(column, cutoff))
        answers = lake_dir / lake.LANDED_SURVEYS / "answers"
        removed[f"{lake.LANDED_SURVEYS}/answers"] = _delete(
            con, answers, "response_id", "response_id IN (SELECT response_id FROM _prv_expired)"
        )
        q_cutoff = as_of - timedelta(days=quarantine_days)
        removed[lake.QUARANTINE] = _delete(
            con, lake_dir / lake.QUARANTINE, "quarantined_at", _older_than("quarantined_at", q_cutoff)
        )
    finally:
        con.execute("DROP TABLE IF EXISTS _prv_expired")
        if own:
            con.close()
    return removed


def _delete(con: duckdb.DuckDBPyConnection, folder: Path, column: str, predicate: str) -> int:
    if not folder.is_dir():
        return 0

    def spec(columns: dict[str, str]) -> MatchSpec | None:
        return MatchSpec(predicate) if column in columns else None

    changes, _ = delete_where(con, folder, spec)
    return sum(c.rows_removed for c in changes)
