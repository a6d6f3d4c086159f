"""Landing event files in a temporary data dir, and reading back what landed."""

from __future__ import annotations

from pathlib import Path

from uds_pipelines.lib import lake, lake_views
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.ingest.events.stage import EventsStage, land_events
from uds_pipelines_tests.lib.ingest.events.spec_examples import write_jsonl


def settings_for(data_dir: Path, **env: str) -> Settings:
    return Settings.from_env({"UDS_DATA_DIR": str(data_dir), **env})


def drop(settings: Settings, name: str, lines: list) -> Path:
    return write_jsonl(settings.inbox("events") / name, lines)


def land(settings: Settings) -> EventsStage:
    stage = land_events(settings)
    assert stage.violations.empty, stage.violations  # conservation holds on every landing
    return stage


def query(settings: Settings, sql: str) -> list[tuple]:
    con = lake.duckdb_connection("512MB")
    try:
        con.execute("SET TimeZone='UTC'")
        lake_views.register(con, settings.lake_dir, ["events", "quarantine", "landed_files"])
        return con.execute(sql).fetchall()
    finally:
        con.close()
