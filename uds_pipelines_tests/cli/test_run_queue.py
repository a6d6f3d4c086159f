"""`uds-run --queue`: the run goes through the instance's run queue and the daemon executes it."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.local.yaml", home / "dagster.yaml")  # queue with concurrency limits
    return os.environ | {"UDS_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(home)}


def uds_run(env, *args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "uds_pipelines.cli.run", "--queue", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def runs(env):
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        return [(r.job_name, r.status.value, r.tags.get("uds/exclusive")) for r in instance.get_runs()]


def test_without_a_daemon_the_run_waits_in_the_queue(env, tmp_path):
    done = uds_run(env, "--wait", "2")
    assert done.returncode == 3, done.stderr[-2000:]
    assert "queued run" in done.stdout and "is the daemon running?" in done.stderr
    assert runs(env) == [("uds_full_run", "QUEUED", "identity")]
    assert not (tmp_path / "data" / "lake").exists()  # nothing ran in this process


def in_process_workspace(tmp_path) -> Path:
    """The project's location with the in-process executor (see in_process_location.py)."""
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_module:\n      module_name: uds_pipelines_tests.cli.in_process_location\n"
        f"      working_directory: {ROOT}\n      location_name: uds_pipelines\n"
    )
    return workspace


def test_the_daemon_runs_the_queued_job(env, tmp_path):
    assert runs(env) == []  # creates the SQLite storage first: two processes creating it at once race
    workspace = in_process_workspace(tmp_path)
    daemon = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(workspace)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        done = uds_run(env, "--workspace", str(workspace), "--wait", "240", timeout=300)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "success" in done.stdout
    # the daemon also runs the schedules: a test crossing minute 15 sees the hourly Stripe catch-up
    ours = [run for run in runs(env) if run[0] == "uds_full_run"]
    assert ours == [("uds_full_run", "SUCCESS", "identity")]
    assert (tmp_path / "data" / "lake" / "profiles" / "customer_profiles.parquet").exists()


def test_missing_workspace_file_exits_2(env, tmp_path):
    done = uds_run(env, "--workspace", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2 and "workspace" in done.stderr
