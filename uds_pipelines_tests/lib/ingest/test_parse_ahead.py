"""A backlog of parsed-source files is parsed ahead in worker processes (`parse_ahead.py`): the lake
must hold exactly what one process parsing file by file writes, and a worker that dies must cost
nothing but time."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from uds_pipelines.lib import catalog
from uds_pipelines.lib.generator.core import generate
from uds_pipelines.lib.ingest import landing, parse_ahead
from uds_pipelines.lib.ingest.landing import land_files
from uds_pipelines.lib.ingest.parse_ahead import ParseAhead
from uds_pipelines.lib.ingest.stage import FORMS, SURVEYS
from uds_pipelines_tests.conftest import REALDATA
from uds_pipelines_tests.lib.ingest.parse_ahead_helpers import parse_or_die

TABLES = ("landed_forms", "landed_survey_responses", "landed_survey_answers", "landed_consent", "quarantine")


@pytest.fixture(scope="module")
def backlog(tmp_path_factory) -> Path:
    """Generated form and survey files plus the real vendors' payloads and exports."""
    root = tmp_path_factory.mktemp("backlog")
    generate(root, people=400, seed=3, workers=1, end="2026-11-01")
    for source in ("forms", "surveys"):
        for real in sorted((REALDATA / source).iterdir()):
            if real.suffix in (".json", ".csv"):
                shutil.copy(real, root / "inbox" / source / real.name)
    return root / "inbox"


def _land(backlog: Path, lake_root: Path) -> dict[str, int]:
    landed = {}
    for spec in (SURVEYS, FORMS):
        inbox = lake_root / "inbox" / spec.source
        shutil.copytree(backlog / spec.source, inbox)
        summary = land_files(spec, sorted(p for p in inbox.iterdir() if p.is_file()), lake_root / "lake")
        landed[spec.source] = len(summary.new_files)
        assert summary.records_read == summary.records_landed + summary.records_quarantined
    return landed


def _table(lake_dir: Path, name: str) -> pd.DataFrame:
    files = sorted(str(p) for p in catalog.path(lake_dir, name).rglob("*.parquet"))
    frame = duckdb.sql(f"SELECT * FROM read_parquet({files}, union_by_name=true)").df()
    frame = frame.drop(columns=[c for c in frame.columns if c in ("landed_at", "quarantined_at")])
    return frame.sort_values(list(frame.columns), ignore_index=True, na_position="first")


def test_a_backlog_parsed_in_workers_lands_what_one_process_lands(backlog, tmp_path, monkeypatch):
    started: list[ParseAhead] = []

    class Recorded(ParseAhead):
        def start(self, paths):
            super().start(paths)
            started.append(self)

    monkeypatch.setattr(landing, "ParseAhead", Recorded)
    monkeypatch.setattr(parse_ahead, "default_workers", lambda: 2)
    monkeypatch.setattr(parse_ahead, "MIN_FILES", 2)
    monkeypatch.setattr(parse_ahead, "MIN_BYTES", 0)
    in_workers = _land(backlog, tmp_path / "workers")
    assert [p.parsed_in_workers for p in started] == [in_workers["surveys"], in_workers["forms"]]
    assert min(in_workers.values()) >= 5  # real exports and payloads among them

    monkeypatch.setattr(parse_ahead, "MIN_FILES", 10**9)
    started.clear()
    assert _land(backlog, tmp_path / "one") == in_workers
    assert [p.parsed_in_workers for p in started] == [0, 0]
    for name in TABLES:
        expected = _table(tmp_path / "one" / "lake", name)
        assert len(expected) > 0 or name == "quarantine"
        pd.testing.assert_frame_equal(_table(tmp_path / "workers" / "lake", name), expected)


def test_a_file_whose_worker_dies_is_parsed_in_the_landing_process(tmp_path, monkeypatch):
    monkeypatch.setattr(parse_ahead, "MIN_FILES", 2)
    monkeypatch.setattr(parse_ahead, "MIN_BYTES", 0)
    paths = []
    for i in range(6):  # the last one kills its worker: it is handed out after the first is parsed
        path = tmp_path / (f"die-{i}.txt" if i == 5 else f"ok-{i}.txt")
        path.write_text(f"line {i}\n" * (i + 1))
        paths.append(path)
    with ParseAhead(parse_or_die, workers=2) as parsed:
        parsed.start(paths)
        results = [parsed.result(p) for p in paths]
    assert [r.records_read for r in results] == [1, 2, 3, 4, 5, 6]
    where = [r.info["parsed_in"] for r in results]
    assert where[0] == "worker" and where[5] == "landing process"
    assert parsed.parsed_in_workers == where.count("worker")


@pytest.mark.parametrize(
    "files, size", [(parse_ahead.MIN_FILES - 1, 4 * 2**20), (parse_ahead.MIN_FILES, 1024)]
)
def test_few_or_small_files_are_parsed_in_the_landing_process(tmp_path, files, size):
    paths = [tmp_path / f"ok-{i}.txt" for i in range(files)]
    for path in paths:
        path.write_text("line\n" * (size // 5))
    assert (files < parse_ahead.MIN_FILES) != (files * size < parse_ahead.MIN_BYTES)  # one reason each
    with ParseAhead(parse_or_die, workers=2) as parsed:
        parsed.start(paths)
        results = [parsed.result(p) for p in paths]
    assert {r.info["parsed_in"] for r in results} == {"landing process"}
    assert parsed.parsed_in_workers == 0
