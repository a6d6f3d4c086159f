"""Identity inputs as durable state: merged batch by batch, normalized once per record, kept past retention."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from uds_pipelines.lib import catalog, connection
from uds_pipelines.lib.generator.core import generate
from uds_pipelines.lib.identity.inputs import OUTPUTS, build_identity_inputs
from uds_pipelines.lib.ingest import inbox
from uds_pipelines.lib.ingest.landing import land_files
from uds_pipelines.lib.ingest.stage import FORMS, SURVEYS
from uds_pipelines.lib.ingest.stripe_files import land_stripe_files
from uds_pipelines.lib.privacy.retention import apply_retention
from uds_pipelines.lib.staging.stripe import build_stripe_staging


def build(lake_dir: Path, rebuild: bool = False) -> dict[str, int]:
    con = connection.connect(lake_dir, default_region="US")
    try:
        return build_identity_inputs(con, lake_dir, "US", rebuild=rebuild)
    finally:
        con.close()


def snapshot(lake_dir: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect()
    return {
        t: sorted(con.execute(f"SELECT * FROM '{catalog.path(lake_dir, t)}'").fetchall(), key=repr)
        for t in OUTPUTS
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gen")
    generate(root, people=150, seed=31, workers=1)
    return root


def test_file_by_file_equals_a_rebuild_and_only_new_records_are_normalized(tmp_path, generated):
    lake_dir = tmp_path / "lake"
    land_stripe_files([f.path for f in inbox.list_inbox(generated / "inbox" / "stripe")], lake_dir)
    build_stripe_staging(lake_dir)
    first = build(lake_dir)
    stripe_records = first["person_records"]
    assert stripe_records > 50 and first["records_changed"] == stripe_records

    files = [(FORMS, f.path) for f in inbox.list_inbox(generated / "inbox" / "forms")]
    files += [(SURVEYS, f.path) for f in inbox.list_inbox(generated / "inbox" / "surveys")]
    assert len(files) >= 4
    normalized = 0
    for spec, path in files:
        landed = land_files(spec, [path], lake_dir).records_landed
        counts = build(lake_dir)
        # the records of this file only, never the history again
        assert counts["records_changed"] <= landed
        normalized += counts["records_changed"]
    assert normalized == counts["person_records"] - stripe_records
    assert build(lake_dir)["records_changed"] == 0  # nothing new: nothing normalized, nothing written
    merged = snapshot(lake_dir)
    assert {r[0] for r in merged["person_records"]} == {"stripe", "form", "survey"}
    build(lake_dir, rebuild=True)
    assert snapshot(lake_dir) == merged


def _form(submission_id: str, email: str, submitted_at: str, name: str) -> dict:
    return {
        "submission_id": submission_id,
        "email": email,
        "first_name": name,
        "last_name": "Old",
        "submitted_at": submitted_at,
        "utm_source": "newsletter",
    }


def test_retention_leaves_person_records_and_a_newer_version_wins_in_any_order(tmp_path):
    lake_dir = tmp_path / "lake"
    folder = tmp_path / "inbox" / "forms"
    folder.mkdir(parents=True)

    def land(name: str, rows: list[dict]) -> None:
        (folder / name).write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        assert land_files(FORMS, [folder / name], lake_dir).records_quarantined == 0

    land(
        "a.jsonl",
        [
            _form("s-2022", "old@example.com", "2022-02-01T10:00:00Z", "Ann"),
            _form("s-2026", "new@example.com", "2026-10-02T10:00:00Z", "Bob"),
        ],
    )
    as_of = datetime(2026, 11, 1, tzinfo=UTC)
    assert apply_retention(lake_dir, as_of)["landed/forms"] == 0  # not merged yet: kept
    build(lake_dir)
    before = snapshot(lake_dir)
    assert len(before["person_records"]) == 2
    assert apply_retention(lake_dir, as_of)["landed/forms"] == 1
    build(lake_dir)
    assert snapshot(lake_dir) == before  # the record outlives its landed row

    # a re-sent submission: the newer version wins whichever lands first
    land("b.jsonl", [_form("s-2026", "newer@example.com", "2026-10-05T10:00:00Z", "Bob")])
    land("c.jsonl", [_form("s-2026", "new@example.com", "2026-10-02T10:00:00Z", "Bob")])
    build(lake_dir)
    emails = (
        duckdb.connect()
        .execute(f"SELECT record_id, email FROM '{catalog.path(lake_dir, 'person_records')}' ORDER BY 1")
        .fetchall()
    )
    assert emails == [("s-2022", "old@example.com"), ("s-2026", "newer@example.com")]
