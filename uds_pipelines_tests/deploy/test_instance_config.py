"""deploy/*.yaml are valid Dagster 1.13 instance configs whose queue keeps identity runs exclusive."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import unquote, urlparse

import dagster as dg
import pytest
import yaml
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._core.storage.dagster_run import DagsterRun
from dagster._utils.tags import TagConcurrencyLimitsCounter

from uds_pipelines.defs import schedules

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
LOCAL_YAML = DEPLOY / "dagster.local.yaml"
POSTGRES_YAML = DEPLOY / "dagster.postgres.yaml"
POSTGRES_URL = os.environ.get("UDS_TEST_POSTGRES_URL")
IDENTITY_JOBS = [schedules.uds_full_run, schedules.daily_profiles_job, schedules.daily_audiences_job]


def pg_env(url: str, db_name: str | None = None) -> dict[str, str]:
    """The DAGSTER_PG_* variables dagster.postgres.yaml reads, taken from a SQLAlchemy URL."""
    parsed = urlparse(url)
    return {
        "DAGSTER_PG_HOST": parsed.hostname or "127.0.0.1",
        "DAGSTER_PG_PORT": str(parsed.port or 5432),
        "DAGSTER_PG_USER": unquote(parsed.username or ""),
        "DAGSTER_PG_PASSWORD": unquote(parsed.password or ""),
        "DAGSTER_PG_DB": db_name or parsed.path.lstrip("/"),
    }


def home_with(config: Path, home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(config, home / "dagster.yaml")
    return home


def tag_limits(config_file: Path) -> list[dict]:
    config, _ = dagster_instance_config(str(config_file.parent), config_file.name)
    queue = config.get("run_queue") or config["run_coordinator"]["config"]
    return queue["tag_concurrency_limits"]


def _run(tags: dict[str, str], name: str = "job") -> DagsterRun:
    return DagsterRun(job_name=name, run_id=str(uuid.uuid4()), tags=tags)


@pytest.mark.parametrize("config_file", [LOCAL_YAML, POSTGRES_YAML], ids=["local", "postgres"])
def test_schema_validates_without_a_database(config_file: Path):
    config, custom_class = dagster_instance_config(str(config_file.parent), config_file.name)
    assert custom_class is None
    assert config["telemetry"] == {"enabled": False}
    # what users see on first load: no onboarding window with an e-mail field over the page
    assert config["nux"] == {"enabled": False}
    assert config["run_monitoring"]["enabled"] is True


def test_the_validator_rejects_a_misspelt_key(tmp_path: Path):
    # guards the test above: a wrong key must fail, or "validates" would prove nothing
    broken = yaml.safe_load(POSTGRES_YAML.read_text())
    broken["run_retries"]["retry_on_op_failure"] = False
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(broken))
    with pytest.raises(DagsterInvalidConfigError):
        dagster_instance_config(str(tmp_path))


@pytest.mark.parametrize("config_file", [LOCAL_YAML, POSTGRES_YAML], ids=["local", "postgres"])
def test_identity_runs_never_overlap_but_ingestion_runs_do(config_file: Path):
    limits = tag_limits(config_file)
    full_run = _run(dict(schedules.uds_full_run.tags), "uds_full_run")
    counter = TagConcurrencyLimitsCounter(limits, [full_run])
    for job in IDENTITY_JOBS:
        assert counter.is_blocked(_run(dict(job.tags), job.name)), job.name
    for source in ("stripe", "surveys", "forms", "privacy"):
        assert not counter.is_blocked(_run({"uds/source": source, "uds/files": "3"}))
    assert not counter.is_blocked(_run(dict(schedules.stripe_catchup_job.tags or {})))
    # several landing runs of one source in flight do not hold each other up either
    landing = [_run({"uds/source": "forms", "uds/files": "500"}) for _ in range(3)]
    assert not TagConcurrencyLimitsCounter(limits, landing).is_blocked(landing[0])
    # nor does a landing run in flight hold up the daily rebuild
    assert not TagConcurrencyLimitsCounter(limits, landing).is_blocked(full_run)


def test_local_yaml_loads_as_a_sqlite_instance(tmp_path: Path):
    home = home_with(LOCAL_YAML, tmp_path / "home")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_monitoring_enabled
        assert not instance.telemetry_enabled
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None and queue.max_concurrent_runs == 4
        # the instance persists under DAGSTER_HOME: a run written here is read back by a new instance
        run = instance.create_run_for_job(dg.GraphDefinition("noop").to_job(), run_id=str(uuid.uuid4()))
    with dg.DagsterInstance.from_config(str(home)) as reopened:
        assert reopened.get_run_by_id(run.run_id) is not None


@pytest.mark.skipif(
    not POSTGRES_URL, reason="UDS_TEST_POSTGRES_URL is unset: no PostgreSQL to load it against"
)
def test_postgres_yaml_loads_as_a_postgres_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for key, value in pg_env(POSTGRES_URL).items():
        monkeypatch.setenv(key, value)
    home = home_with(POSTGRES_YAML, tmp_path / "home")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.run_retries_retry_on_asset_or_op_failure is False
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_start_timeout_seconds == 300
        assert instance.run_monitoring_cancel_timeout_seconds == 300
        assert not instance.telemetry_enabled
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None and queue.max_concurrent_runs == 8
        assert queue.tag_concurrency_limits == tag_limits(POSTGRES_YAML)


def test_postgres_yaml_reads_credentials_from_the_environment_only():
    storage = yaml.safe_load(POSTGRES_YAML.read_text())["storage"]["postgres"]["postgres_db"]
    for field in ("hostname", "port", "username", "password", "db_name"):
        assert set(storage[field]) == {"env"}, field
    assert storage["scheme"] == "postgresql+psycopg2"


def test_helm_values_apply_the_same_queue_retry_and_monitoring_policy():
    helm = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    instance = yaml.safe_load(POSTGRES_YAML.read_text())
    daemon = helm["dagsterDaemon"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    coordinator = instance["run_coordinator"]["config"]
    assert queued["tagConcurrencyLimits"] == coordinator["tag_concurrency_limits"]
    assert queued["maxConcurrentRuns"] == coordinator["max_concurrent_runs"]
    retries = instance["run_retries"]
    assert (daemon["runRetries"]["maxRetries"], daemon["runRetries"]["retryOnAssetOrOpFailure"]) == (
        retries["max_retries"],
        retries["retry_on_asset_or_op_failure"],
    )
    monitoring = instance["run_monitoring"]
    assert daemon["runMonitoring"]["startTimeoutSeconds"] == monitoring["start_timeout_seconds"]
    assert daemon["runMonitoring"]["cancelTimeoutSeconds"] == monitoring["cancel_timeout_seconds"]
    assert helm["postgresql"]["postgresqlScheme"] == instance["storage"]["postgres"]["postgres_db"]["scheme"]
    assert helm["telemetry"]["enabled"] is False
