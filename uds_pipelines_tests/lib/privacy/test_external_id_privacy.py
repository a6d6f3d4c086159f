"""Access reports and erasure reach `external_id` (an app's user id) in every table that holds it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from uds_pipelines.lib import catalog, connection, lake
from uds_pipelines.lib.identity import GuardrailConfig, resolve_identities, write_outputs
from uds_pipelines.lib.identity.inputs import build_identity_inputs
from uds_pipelines.lib.privacy.access import build_access_report
from uds_pipelines.lib.privacy.erasure import erase_subjects
from uds_pipelines.lib.privacy.requests import Subject, subjects_from_frame
from uds_pipelines.lib.privacy.suppression import add_to_suppression, filter_suppressed, suppression_hashes
from uds_pipelines.lib.privacy.variants import subject_needles
from uds_pipelines.lib.staging.stripe import build_stripe_staging
from uds_pipelines_tests.lib.identity.test_external_id import (
    USER,
    _customer,
    _event,
    _land,
    _land_stripe,
    _rewrite_csv,
)
from uds_pipelines_tests.lib.privacy.helpers import request, resolve


def _lake(realdata: Path, tmp_path: Path) -> Path:
    lake_dir = tmp_path / "lake"
    survey = tmp_path / "qualtrics_sample_3header.csv"
    _rewrite_csv(realdata / "surveys" / "qualtrics_sample_3header.csv", survey, "ExternalReference", [USER])
    # someone else's submission that mentions the user id in free text
    mention = json.dumps({"submission_id": "n1", "email": "other@example.org", "comment": f"re {USER}"})
    forms = {"typeform.json": realdata / "forms" / "typeform_webhook_docs_example.json", "n.jsonl": mention}
    _land(tmp_path, lake_dir, "forms", forms)
    _land(tmp_path, lake_dir, "surveys", {"qualtrics.csv": survey})
    _land_stripe(tmp_path, lake_dir, [_event("evt_1", _customer(realdata, "cus_A", {"user_id": USER}))])
    build_stripe_staging(lake_dir)
    con = connection.connect(lake_dir, default_region="US")
    build_identity_inputs(con, lake_dir, "US")
    result = resolve_identities(  # the identifiers just built: the lake's views
        con,
        config=GuardrailConfig(),
        run_id="r1",
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    write_outputs(con, lake_dir, result)
    return lake_dir


def test_access_report_lists_the_external_id(realdata: Path, tmp_path: Path) -> None:
    lake_dir = _lake(realdata, tmp_path)
    con = duckdb.connect()
    [subject] = subjects_from_frame(
        resolve(con, lake_dir, [request("a1", "access", email="laura@example.com")])
    )
    report = build_access_report(con, lake_dir, tmp_path / "exports", subject)
    assert {"type": "external_id", "value": USER} in report["identifiers"]
    assert [r["external_id"] for r in report["survey_responses"]] == [USER]
    assert [r["external_id"] for r in report["form_submissions"]] == [USER]
    assert {r["source"] for r in report["records"]} == {"form", "survey", "stripe"}


def test_erasure_removes_every_row_holding_the_external_id(realdata: Path, tmp_path: Path) -> None:
    lake_dir = _lake(realdata, tmp_path)
    con = duckdb.connect()
    subjects = resolve(con, lake_dir, [request("e1", email="laura@example.com")])
    erase_subjects(lake_dir, tmp_path / "exports", subjects, warehouse_url=None, run_id="e1")
    left = []
    for path in sorted(lake_dir.rglob("*.parquet")):
        if "privacy" in path.parts:
            continue
        text = duckdb.sql(f"SELECT * FROM read_parquet('{path}')").df().to_csv()
        if USER in text:
            left.append(str(path.relative_to(lake_dir)))
    assert left == []
    assert not lake.has_parquet(lake_dir / catalog.table("landed_forms").path)  # the comment mentioning it went too


def test_all_digit_external_ids_are_not_text_needles() -> None:
    subject = Subject("r", identifiers=[("external_id", "12345678"), ("external_id", "usr_4711ab")])
    needles = subject_needles(subject)
    assert "usr_4711ab" in needles and "12345678" not in needles


def test_an_erased_persons_external_id_keeps_new_submissions_out(realdata: Path, tmp_path: Path) -> None:
    lake_dir = _lake(realdata, tmp_path)
    con = duckdb.connect()
    subjects = resolve(con, lake_dir, [request("e1", email="laura@example.com")])
    key = b"k"
    add_to_suppression(lake_dir, suppression_hashes(subjects, key))
    arriving = pd.DataFrame(
        {"submission_id": ["new-1", "new-2"], "email": [None, "someone@else.org"],
         "external_id": [f"  {USER} ", "u-other"], "position": [1, 2]}
    )  # fmt: skip
    kept, quarantined = filter_suppressed(arriving, key=key, lake_dir=lake_dir, source="forms")
    assert kept["submission_id"].tolist() == ["new-2"]
    assert [(q.reason, q.raw) for q in quarantined] == [("suppressed", None)]
