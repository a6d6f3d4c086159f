"""Two clean `uds-run`s over the same input and `UDS_AS_OF` publish the same contract tables,
and every file a real run writes with personal data is private (0600 files, 0700 folders)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from uds_pipelines.lib import warehouse
from uds_pipelines.lib.generator.core import generate

AS_OF = "2026-11-01T00:00:00Z"
PEOPLE = 300  # enough buyers with equal order counts and equal values that RFM ties happen

# Columns left out of the fingerprints because they record WHEN a run happened, not what it found:
# `quarantined_at` (quarantine, the wall clock when the record was quarantined), `exported_at`
# (the time of the export) and `_uds_updated_at` (warehouse tables: the wall clock of the publish
# that last changed the row). Nothing else is excluded: every other column, `entered_at`
# included, must come from the input and `UDS_AS_OF` alone.
WALL_CLOCK_COLUMNS = {"quarantined_at", "exported_at", "_uds_updated_at"}

# Customer ids are drawn at random on purpose (never derived from personal data, see
# lib/identity/stable_ids.py), so two clean runs name the same person differently. Each id is
# replaced by a run-independent label, the smallest `source:record_id` of the person's records in
# the identity map; the fingerprint then proves the same people, the same grouping of records into
# people and the same per-person content.
# Meta audience files carry the customer id as `extern_id`; the warehouse keeps that file row as
# JSON in `destination_fields`, where `extern_id` is dropped (the row's own customer_id covers it).
ID_COLUMNS = ("customer_id", "origin_customer_id", "extern_id")


def _start_uds_run(data: Path, home: Path) -> subprocess.Popen:
    env = os.environ | {"UDS_DATA_DIR": str(data), "DAGSTER_HOME": str(home), "UDS_AS_OF": AS_OF}
    return subprocess.Popen(
        [sys.executable, "-m", "uds_pipelines.cli.run"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two independent runs (own data dir, own DAGSTER_HOME), at the same time: on 2 cores one
    run's single-threaded stretches (imports, Dagster's bookkeeping) overlap the other's."""
    root = tmp_path_factory.mktemp("repro")
    generate(root / "generated", people=PEOPLE, seed=5, workers=1)
    started = {}
    for name in ("a", "b"):
        shutil.copytree(root / "generated" / "inbox", root / name / "data" / "inbox")
        started[root / name / "data"] = _start_uds_run(root / name / "data", root / name / "home")
    for proc in started.values():
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stdout[-2000:] + stderr[-3000:]
    return list(started)


def _fingerprints(data: Path) -> dict[str, tuple[int, str]]:
    """(row count, md5 of the sorted rows) per contract table; order-independent by construction."""
    con = duckdb.connect()
    lake = data / "lake"
    con.execute(
        f"""
        CREATE TABLE labels AS
        SELECT customer_id, min(source || ':' || record_id) AS label
        FROM read_parquet('{lake}/identity/identity_map.parquet') GROUP BY customer_id
        """
    )
    tables = {
        "identity_map": f"SELECT * FROM read_parquet('{lake}/identity/identity_map.parquet')",
        "customer_profiles": f"SELECT * FROM read_parquet('{lake}/profiles/customer_profiles.parquet')",
        "segment_membership": f"SELECT * FROM read_parquet('{lake}/segments/segment_membership.parquet')",
        "quarantine": f"SELECT * FROM read_parquet('{lake}/quarantine/*.parquet', union_by_name=true)",
    }
    for folder in sorted((data / "exports" / "audiences").iterdir()):
        tables[f"export:{folder.name}"] = (
            f"SELECT filename, * EXCLUDE (filename) FROM read_csv('{folder}/*.csv', all_varchar=true, filename=true)"
        )
    url = f"sqlite:///{data / 'warehouse.sqlite'}"
    for name in ("customer_profiles", "audience_members"):
        con.register(f"wh_{name}", warehouse.read_table(url, name))
        tables[f"warehouse:{name}"] = f"SELECT * FROM wh_{name}"
    return {name: _fingerprint(con, sql) for name, sql in tables.items()}


def _fingerprint(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, str]:
    columns = [row[0] for row in con.execute(f"DESCRIBE {sql}").fetchall()]
    select = []
    for column in columns:
        if column in WALL_CLOCK_COLUMNS:
            continue
        if column == "filename":  # the export file's folder differs per run; its name must not
            select.append("regexp_extract(t.filename, '[^/]+$') AS filename")
        elif column in ID_COLUMNS:
            label = f"(SELECT l.label FROM labels l WHERE l.customer_id = t.{column})"
            select.append(f"CASE WHEN t.{column} IS NULL THEN NULL ELSE coalesce({label}, 'unmapped') END AS {column}")
        elif column == "destination_fields":
            patched = """json_merge_patch(t.destination_fields, '{"extern_id": null}')"""
            select.append(f"CASE WHEN t.destination_fields IS NULL THEN NULL ELSE {patched} END AS destination_fields")
        else:
            select.append(f't."{column}"')  # Google's headers have spaces ("First Name")
    rows = f"SELECT {', '.join(select)} FROM ({sql}) t"
    count, digest = con.execute(
        f"SELECT count(*), md5(coalesce(string_agg(CAST(r AS VARCHAR), chr(10) ORDER BY CAST(r AS VARCHAR)), '')) "
        f"FROM ({rows}) r"
    ).fetchone()
    return count, digest


def test_two_clean_runs_publish_equal_contract_tables(two_runs):
    first, second = (_fingerprints(data) for data in two_runs)
    assert first.keys() == second.keys()
    assert first["customer_profiles"][0] > 100 and first["segment_membership"][0] > 0
    differing = {name: (first[name], second[name]) for name in first if first[name] != second[name]}
    assert not differing, differing


def test_every_file_a_run_writes_with_personal_data_is_private(two_runs):
    data = two_runs[0]
    private = [data / "lake", data / "exports", data / "spool"]
    loose = []
    for root in [p for p in private if p.exists()]:
        for path in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(path.lstat().st_mode)
            expected = 0o700 if path.is_dir() else 0o600
            if mode != expected:
                loose.append(f"{path.relative_to(data)} {mode:o}")
    for name in ("warehouse.sqlite", "warehouse.sqlite-wal", "warehouse.sqlite-shm"):
        path = data / name
        if path.exists() and stat.S_IMODE(path.stat().st_mode) != 0o600:
            loose.append(f"{name} {stat.S_IMODE(path.stat().st_mode):o}")
    assert (data / "warehouse.sqlite").exists()
    assert not loose, loose[:20]
