"""Retention: delete landed raw rows past the retention period and old quarantine rows.

Raw rows go, facts stay: a batch whose rows a step keeps durable state from (`lib.watermarks`) is
left alone until that step has merged it, so staging has taken what it needs before anything is
deleted; the staged state is never touched here."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, connection, watermarks
from uds_pipelines.lib.privacy.rewrite import MatchSpec, delete_where
from uds_pipelines.lib.privacy.tables import fresh_views

# landed table (a folder of batches) -> the timestamp column deciding a row's age, as the catalog
# declares it (rows without one are kept: age unknown). Quarantine has its own period.
AGED_TABLES = {t.name: t.expires_by for t in catalog.TABLES.values() if t.expires_by and t.layer == "landed"}


def _older_than(column: str, cutoff: datetime) -> str:
    return f"CAST({column} AS TIMESTAMPTZ) < TIMESTAMPTZ '{cutoff.isoformat()}'"


def apply_retention(
    lake_dir: Path,
    as_of: datetime,
    retention_days: int = 730,
    quarantine_days: int = 90,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, int]:
    """Delete rows older than the cutoffs; rewrite only affected files. Returns rows removed per
    table, keyed by its lake path (`landed/stripe`, ...).

    Survey answers go with their responses (they carry no timestamp of their own).
    """
    own = con is None
    con = con or connection.connect(lake_dir)
    removed: dict[str, int] = {}
    cutoff = as_of - timedelta(days=retention_days)
    try:
        fresh_views(con, lake_dir, "landed_survey_responses")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _prv_expired AS SELECT DISTINCT response_id "
            f"FROM landed_survey_responses WHERE {_older_than('submitted_at', cutoff)}"
        )
        for name, column in AGED_TABLES.items():
            removed[_label(name)] = _delete(con, lake_dir, name, column, _older_than(column, cutoff))
        removed[_label("landed_survey_answers")] = _delete(
            con,
            lake_dir,
            "landed_survey_answers",
            "response_id",
            # not the answers of a response kept back for a step that has not merged it yet
            "response_id IN (SELECT response_id FROM _prv_expired "
            "EXCEPT SELECT response_id FROM landed_survey_responses)",
        )
        q_cutoff = as_of - timedelta(days=quarantine_days)
        aged_by = catalog.table("quarantine").expires_by
        removed[_label("quarantine")] = _delete(
            con, lake_dir, "quarantine", aged_by, _older_than(aged_by, q_cutoff)
        )
    finally:
        con.execute("DROP TABLE IF EXISTS _prv_expired")
        if own:
            con.close()
    return removed


def _label(name: str) -> str:
    return catalog.table(name).path


def _delete(con: duckdb.DuckDBPyConnection, lake_dir: Path, name: str, column: str, predicate: str) -> int:
    """Delete the rows of table `name` matching `predicate`, file by file; its view is refreshed."""
    folder = catalog.path(lake_dir, name)
    if not folder.is_dir():
        return 0

    def spec(columns: dict[str, str]) -> MatchSpec | None:
        return MatchSpec(predicate) if column in columns else None

    waiting = {folder / n for n in watermarks.unmerged(con, lake_dir, name)}
    changes, _ = delete_where(con, folder, spec, exclude=waiting)
    if changes:
        fresh_views(con, lake_dir, name)  # files were rewritten or deleted under the view
    return sum(c.rows_removed for c in changes)
