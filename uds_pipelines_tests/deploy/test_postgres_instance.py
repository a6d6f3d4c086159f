"""The production instance (deploy/dagster.postgres.yaml) against a real PostgreSQL: the inbox sensors
tick against it, and `uds-run` in a subprocess records its run there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from uds_pipelines import constants as c
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.generator.core import generate
from uds_pipelines_tests.deploy.test_instance_config import POSTGRES_YAML, home_with, pg_env

POSTGRES_URL = os.environ.get("UDS_TEST_POSTGRES_URL")
SOURCES = ("stripe", "surveys", "forms", "privacy")
AS_OF = "2026-11-01T00:00:00Z"

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="UDS_TEST_POSTGRES_URL is unset: no PostgreSQL for the production instance"
)


@pytest.fixture(scope="module")
def pg_database() -> Iterator[dict[str, str]]:
    """A database of its own, so tables left by other tests or runs cannot satisfy the assertions."""
    name = f"uds_dagster_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_env(POSTGRES_URL, db_name=name)
    finally:
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def pg_home(pg_database, tmp_path_factory) -> Iterator[Path]:
    home = home_with(POSTGRES_YAML, tmp_path_factory.mktemp("dagster_home"))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in pg_database.items():
            mp.setenv(key, value)
        yield home


@pytest.fixture(scope="module")
def instance(pg_home) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.from_config(str(pg_home)) as inst:
        yield inst


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate(out, people=30, seed=7)
    return out


def _data_dir(generated: Path, root: Path) -> Path:
    shutil.copytree(generated / "inbox", root / "inbox")
    return root


def _tick(sensor: dg.SensorDefinition, definitions, instance, data: Path, cursor: str | None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=definitions,
        sensor_name=sensor.name,
        resources={"uds": UdsSettingsResource(data_dir=str(data))},
    )
    return sensor.evaluate_tick(context)


def _pg_engine(pg_database: dict[str, str]) -> sa.Engine:
    return sa.create_engine(sa.engine.make_url(POSTGRES_URL).set(database=pg_database["DAGSTER_PG_DB"]))


def test_instance_creates_its_tables_in_postgres(instance, pg_database):
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    engine = _pg_engine(pg_database)
    with engine.connect() as con:
        tables = set(sa.inspect(con).get_table_names())
    engine.dispose()
    # run, event-log and schedule (sensor cursors) storage all live in the one database
    assert {"runs", "event_logs", "instigators", "job_ticks"} <= tables


def test_inbox_sensors_request_each_file_once(instance, generated, tmp_path):
    from uds_pipelines.definitions import defs

    definitions = defs()
    data = _data_dir(generated, tmp_path / "data")
    for source in SOURCES:
        sensor = definitions.resolve_sensor_def(f"{source}_inbox_sensor")
        waiting = sorted(p.name for p in (data / "inbox" / source).iterdir() if p.is_file())
        assert waiting, f"the generator wrote nothing for {source}"
        first = _tick(sensor, definitions, instance, data, None)
        keys = [r.run_key for r in first.run_requests]
        assert keys and all(k.startswith(f"{source}-") for k in keys) and len(set(keys)) == len(keys)
        requested = sorted(
            name
            for r in first.run_requests
            for op in r.run_config["ops"].values()
            for name in op["config"]["files"]
        )
        assert requested == waiting
        assert all(r.tags["uds/source"] == source for r in first.run_requests)

        second = _tick(sensor, definitions, instance, data, first.cursor)
        assert second.run_requests == [] and "no new files" in (second.skip_message or "")

        # a file dropped later is requested alone, under a key never used before
        dropped = data / "inbox" / source / f"late_{waiting[0]}"
        shutil.copy(data / "inbox" / source / waiting[0], dropped)
        third = _tick(sensor, definitions, instance, data, second.cursor)
        assert [
            f
            for r in third.run_requests
            for op in r.run_config["ops"].values()
            for f in op["config"]["files"]
        ] == [dropped.name]
        assert not set(r.run_key for r in third.run_requests) & set(keys)


def test_uds_run_records_its_run_in_postgres(instance, pg_home, pg_database, generated, tmp_path):
    data = _data_dir(generated, tmp_path / "data")
    env = {
        **os.environ,
        **pg_database,
        "DAGSTER_HOME": str(pg_home),
        "UDS_DATA_DIR": str(data),
        "UDS_AS_OF": AS_OF,
    }
    uds_run = Path(sys.executable).parent / "uds-run"
    done = subprocess.run([str(uds_run)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    run_id = done.stdout.split("uds-run: run ", 1)[1].split()[0]

    runs = instance.get_runs(filters=dg.RunsFilter(job_name=c.JOB_FULL_RUN))
    assert [(r.run_id, r.status) for r in runs] == [(run_id, dg.DagsterRunStatus.SUCCESS)]
    assert runs[0].tags.get("uds/exclusive") == "identity"
    materialized = {
        e.asset_materialization.asset_key.to_user_string()
        for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    }
    assert {"landed_stripe", "landed_forms", "landed_files"} <= materialized

    manifests = list((data / "exports" / "audiences").glob("*/manifest.json"))
    assert manifests, "audience exports written"
    assert all(len(list(m.parent.glob("*.csv"))) >= 1 for m in manifests)
    assert (data / "lake" / "profiles" / "customer_profiles.parquet").stat().st_size > 0
    assert [p for p in (data / "inbox").rglob("*") if p.is_file()] == []

    # CONTRACT section 6 on the production storage: the raw event rows in PostgreSQL hold no email
    people = pd.read_parquet(generated / "ground_truth" / "people.parquet")
    engine = _pg_engine(pg_database)
    with engine.connect() as con:
        stored = "\n".join(con.execute(sa.text("SELECT event FROM event_logs")).scalars()).lower()
    engine.dispose()
    assert len(stored) > 10_000, "the run's events are in PostgreSQL"
    leaked = [e for e in people["email"].dropna().str.lower() if e in stored]
    assert leaked == [], f"{len(leaked)} email(s) in the event log"
