"""`uds-run`: a configuration error names the variable and exits 2 before any run starts."""

import os
import subprocess
import sys


def test_invalid_setting_exits_2_naming_the_variable(tmp_path):
    env = os.environ | {"UDS_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path / "home"),
                        "UDS_MATCHING": "fuzzy"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "uds_pipelines.cli.run"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "UDS_MATCHING" in done.stderr
    assert not (tmp_path / "data" / "lake").exists()


def test_empty_inbox_runs_the_whole_graph_successfully(tmp_path):
    env = os.environ | {"UDS_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "uds_pipelines.cli.run"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "succeeded" in done.stdout
    assert (tmp_path / "data" / "lake" / "profiles" / "customer_profiles.parquet").exists()
