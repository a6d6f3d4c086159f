"""Erasure removes a person from Google Customer Match and Meta files, and only that person."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime

import pytest

from uds_pipelines.lib import lake
from uds_pipelines.lib.audiences import parse_audiences, plan_audience, write_audience_files
from uds_pipelines.lib.privacy.exports_erase import erase_exports
from uds_pipelines.lib.privacy.needles import audience_hashes
from uds_pipelines.lib.privacy.requests import Subject
from uds_pipelines.lib.privacy.verify import search_needles
from uds_pipelines_tests.lib.segments.helpers import PURPOSES, write_profiles

AS_OF = datetime(2026, 1, 31, tzinfo=UTC)
PROFILES = [
    {"customer_id": "C1", "email": "ann@example.com", "phone": "+14155550123", "first_name": "Ann"},
    {"customer_id": "C2", "email": "bob@example.com", "phone": "+14155550199", "first_name": "Bob"},
    {"customer_id": "C3", "phone": "+447700900123", "first_name": "Cy"},  # phone only
]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def exported(tmp_path):
    """Google and Meta files of the same three people, as the export step writes them."""
    con = lake.duckdb_connection(memory_limit="256MB")
    relation = write_profiles(tmp_path / "profiles.parquet", PROFILES)
    con.execute(
        "CREATE TABLE membership AS FROM (VALUES ('C1', 'vip'), ('C2', 'vip'), ('C3', 'vip')) AS t(customer_id, segment)"
    )
    con.execute(
        "CREATE TABLE consent AS SELECT customer_id, 'ad_targeting' AS purpose, true AS granted FROM membership"
    )
    files = {}
    for fmt in ("google_customer_match", "meta_custom_audience"):
        audiences, _ = parse_audiences(
            [{"name": fmt.replace("_", "-"), "segment": "vip", "purpose": "ad_targeting", "format": fmt}],
            PURPOSES,
        )
        plan = plan_audience(con, audiences[0], "membership", relation, "consent")
        files[fmt] = write_audience_files(plan, tmp_path / "exports", "run-1", AS_OF)[0]
    yield con, tmp_path / "exports", files
    con.close()


def _rows(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def test_erasure_removes_the_person_from_both_platform_files(exported):
    con, exports_dir, files = exported
    subject = Subject(
        request_id="r1",
        customer_ids=["C1"],
        identifiers=[("email", "ann@example.com"), ("phone", "+14155550123")],
    )
    changes = erase_exports(exports_dir, [subject], None)
    google, meta = files["google_customer_match"], files["meta_custom_audience"]
    # Google's file carries no id of ours: the row goes by its email and phone hashes
    assert sha("ann@example.com") not in google.read_text()
    assert sha("+14155550123") not in google.read_text()
    assert len(_rows(google)) == 2 and sha("bob@example.com") in google.read_text()
    # Meta's file: by extern_id and by the digits-only phone hash
    assert [r[-1] for r in _rows(meta)] == ["C2", "C3"]
    assert sha("14155550123") not in meta.read_text()
    assert changes.per_request["r1"]["exports"] == 2
    manifest = json.loads((google.parent / "manifest.json").read_text())
    assert manifest["rows"] == 2 and manifest["erased_rows"] == 1


def test_erasure_by_phone_alone_finds_the_google_row(exported):
    con, exports_dir, files = exported
    subject = Subject(request_id="r3", customer_ids=[], identifiers=[("phone", "+447700900123")])
    erase_exports(exports_dir, [subject], None)
    assert len(_rows(files["google_customer_match"])) == 2
    assert sha("+447700900123") not in files["google_customer_match"].read_text()
    # without extern_id the Meta row is still found, by Meta's digits-only phone hash
    assert [r[-1] for r in _rows(files["meta_custom_audience"])] == ["C1", "C2"]


def test_every_audience_phone_hash_is_searched_for():
    hashes = audience_hashes("+14155550123")
    assert {sha("+14155550123"), sha("14155550123")} <= hashes
    assert sha("14155550123") in search_needles({"+14155550123"})
    assert audience_hashes("ann@example.com") == {sha("ann@example.com")}
