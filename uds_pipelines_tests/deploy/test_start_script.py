"""Command 1 as a new user runs it: `scripts/start.sh` seeds, runs the graph once and serves the UI."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator

import pytest

from uds_pipelines_tests.dagster_dev import REPO, DagsterDev, free_port

# `uds-run` on the bundled samples, then `dg dev` start-up, on a shared 2-core machine
READY_TIMEOUT_S = 420


@pytest.fixture(scope="module")
def started(tmp_path_factory) -> Iterator[DagsterDev]:
    root = tmp_path_factory.mktemp("start")
    port = free_port()
    # what a user's shell has: none of a developer's UDS_* or DAGSTER_* settings; a port of our own
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UDS_", "DAGSTER_"))}
    env.update(
        {
            "UDS_PORT": str(port),
            "UDS_DATA_DIR": str(root / "data"),
            "DAGSTER_HOME": str(root / "home"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    log_path = root / "start.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(REPO / "scripts" / "start.sh")],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = DagsterDev(proc=proc, port=port, log_path=log_path)
    try:
        server.wait_ready(timeout=READY_TIMEOUT_S)
        yield server
    finally:
        server.stop()


def test_first_run_of_the_graph_succeeds(started):
    log = started.log_path.read_text(errors="replace")
    assert re.search(r"uds-run: run \S+ succeeded", log), started.log_tail()
    assert "uds-run reported failures" not in log


def test_banner_prints_the_port_the_ui_serves_on(started):
    log = started.log_path.read_text(errors="replace")
    banners = re.findall(r"Dagster UI: (http://\S+)", log)
    assert banners == [started.url], banners
    assert started.graphql("{ version }")["version"]


def test_no_community_window_and_no_telemetry(started):
    assert started.graphql("{ shouldShowNux }")["shouldShowNux"] is False
    config = (started.log_path.parent / "home" / "dagster.yaml").read_text()
    assert "nux:\n  enabled: false" in config


def test_no_deprecation_warning_from_install_or_start(started):
    log = started.log_path.read_text(errors="replace")
    assert not re.findall(r"\w*(?:Supersession|Deprecation)Warning.*", log)
    assert "project.license" not in log  # setuptools' warning for a TOML-table license
    assert "active virtual environment does not match" not in log  # dg, when .venv is not active


def test_every_bundled_audience_exports_rows(started):
    """The demo shows the product: the first run (as of the samples' last day) gives every audience
    in the bundled audiences.yaml at least one exported row."""
    import csv

    import yaml

    bundled = yaml.safe_load((REPO / "uds_pipelines" / "config" / "audiences.yaml").read_text())
    exports = started.log_path.parent / "data" / "exports" / "audiences"
    rows = {}
    for audience in bundled["audiences"]:
        files = sorted((exports / audience["name"]).glob("*.csv"))
        assert files, f"{audience['name']}: no file exported"
        with files[-1].open(newline="") as handle:
            rows[audience["name"]] = sum(1 for _ in csv.DictReader(handle))
    assert min(rows.values()) >= 1, rows


def test_the_demo_shows_predicted_traits_and_every_bundled_segment(started):
    """The samples' generated buyers are enough history to fit: profiles carry predicted columns and
    every bundled segment, the predicted and event-based ones too, has members."""
    import duckdb
    import yaml

    lake = started.log_path.parent / "data" / "lake"
    con = duckdb.connect()
    predicted = con.execute(
        f"SELECT count(*) FROM '{lake / 'profiles' / 'customer_profiles.parquet'}' "
        "WHERE p_alive BETWEEN 0 AND 1 AND churn_risk IN ('low', 'medium', 'high') AND predicted_clv_12m >= 0"
    ).fetchone()[0]
    assert predicted >= 100
    bundled = yaml.safe_load((REPO / "uds_pipelines" / "config" / "segments.yaml").read_text())
    members = dict(
        con.execute(
            f"SELECT segment, count(*) FROM '{lake / 'segments' / 'segment_membership.parquet'}' GROUP BY 1"
        ).fetchall()
    )
    assert {s["name"] for s in bundled["segments"]} <= set(members), members
