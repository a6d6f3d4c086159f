"""Every real third-party payload in realdata/forms parses into the fields read from the file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from uds_pipelines.lib import catalog
from uds_pipelines.lib.ingest.forms import parse_form_file


def _one(path: Path) -> pd.Series:
    result = parse_form_file(path)
    assert result.quarantine == []
    assert result.records_read == 1 and result.conserved
    assert list(result.records.columns) == list(catalog.table("landed_forms").columns)
    assert str(result.records["submitted_at"].dtype) == "datetime64[ns, UTC]"
    return result.records.iloc[0]


def test_hubspot_docs_example(realdata: Path) -> None:
    path = realdata / "forms" / "hubspot_forms_v3_submit_docs_example.json"
    result = parse_form_file(path)
    row = _one(path)
    assert row["form_provider"] == "hubspot"
    assert row["email"] == "example@example.com"
    assert row["first_name"] == "Jeff" and row["last_name"] is None
    assert row["submitted_at"] == pd.Timestamp("2018-02-06T14:26:14Z")
    assert row["submission_id"].startswith("frm_") and len(row["submission_id"]) == 28
    assert json.loads(row["fields_json"])["_context"]["pageUri"] == "www.example.com/page"
    consents = result.consents
    assert len(consents) == 1
    statement = consents.iloc[0]
    assert (statement["identifier_type"], statement["identifier"]) == ("email", "example@example.com")
    assert (statement["purpose"], bool(statement["granted"]), statement["source"]) == (
        "email_marketing",
        True,
        "form",
    )
    assert statement["source_record"] == row["submission_id"]
    assert statement["captured_at"] == row["submitted_at"]
    assert result.info["consent_mappings"] == {
        "hubspot communication subscriptionTypeId=999": "email_marketing"
    }


def test_hubspot_older_docs_example(realdata: Path) -> None:
    path = realdata / "forms" / "hubspot_forms_v3_submit_docs_example_older.json"
    row = _one(path)
    assert row["email"] == "example@example.com"
    assert row["last_name"] == "Example Lastname" and row["first_name"] is None
    extra = json.loads(row["fields_json"])
    assert extra["multiple_checkbox_property"] == "option_1;option2"
    assert extra["date_property"] == 1520985600000
    assert extra["_context"]["hutk"] == "3aea3ab5985f7bc544e847d1f76b5857"
    assert parse_form_file(path).consents.empty


def test_hubspot_id_is_stable_and_content_based(realdata: Path) -> None:
    first = _one(realdata / "forms" / "hubspot_forms_v3_submit_docs_example.json")["submission_id"]
    again = _one(realdata / "forms" / "hubspot_forms_v3_submit_docs_example.json")["submission_id"]
    other = _one(realdata / "forms" / "hubspot_forms_v3_submit_docs_example_older.json")["submission_id"]
    assert first == again != other


def test_typeform_docs_example(realdata: Path) -> None:
    path = realdata / "forms" / "typeform_webhook_docs_example.json"
    row = _one(path)
    assert row["form_provider"] == "typeform"
    assert row["submission_id"] == "a3a12ec67a1365927098a606107fac15"
    assert row["form_id"] == "lT4Z3j"
    assert row["email"] == "laura@example.com"
    assert row["first_name"] == "Laura"
    assert row["submitted_at"] == pd.Timestamp("2018-01-18T18:17:02Z")
    extra = json.loads(row["fields_json"])
    assert extra["readable_ref_picture_choice"] == ["London", "Sydney"]
    assert extra["readable_ref_multiple_choice"] == "London"
    assert extra["readable_ref_calendly"].startswith("https://calendly.com/")
    assert extra["_hidden"] == {"user_id": "abc123456"}
    assert extra["_event_id"] == "LtWXD3crgy"
    # The legal and yes/no booleans do not speak of consent, newsletters or marketing.
    assert parse_form_file(path).consents.empty


def test_webflow_v2_docs_example(realdata: Path) -> None:
    row = _one(realdata / "forms" / "webflow_form_submission_v2_docs_example.json")
    assert row["form_provider"] == "webflow"
    assert row["submission_id"] == "6321ca84df3949bfc6752327"
    assert row["form_id"] == "65429eadebe8a9f3a30f62d0"
    assert (row["first_name"], row["last_name"]) == ("Zaphod", "Beeblebrox")
    assert row["email"] == "zaphod@heartofgold.ai"
    assert row["phone"] == "15550000000"  # a JSON number in the payload, digits kept
    assert row["submitted_at"] == pd.Timestamp("2022-09-14T12:35:16.117Z")


def test_webflow_v2_captured_example(realdata: Path) -> None:
    row = _one(realdata / "forms" / "webflow_form_submission_v2_captured_example.json")
    assert row["submission_id"] == "66a947f35b9d7ba400e22733"
    assert row["form_id"] == "65429eadebe8a9f3a30f62d7"
    assert row["email"] == "hello@gmail.com"  # field named "Email 2"
    assert row["submitted_at"] == pd.Timestamp("2024-07-30T20:07:15.220Z")
    assert json.loads(row["fields_json"])["_name"] == "Email Form"


def test_webflow_v1_legacy_example(realdata: Path) -> None:
    row = _one(realdata / "forms" / "webflow_form_submission_v1_legacy_docs_example.json")
    assert row["submission_id"] == "6321ca84df3949bfc6752327"
    assert row["email"] == "some.one@home.com"
    assert (row["first_name"], row["last_name"]) == ("Some", "One")
    assert row["submitted_at"] == pd.Timestamp("2022-09-14T12:35:16.117Z")
    assert json.loads(row["fields_json"])["_site"] == "62749158efef318abc8d5a0f"


def test_netlify_platoniq_capture(realdata: Path) -> None:
    row = _one(realdata / "forms" / "netlify_submission_created_payload_platoniq.json")
    assert row["form_provider"] == "netlify"
    assert row["submission_id"] == "627a533894a7dd09dd3e0abf"
    assert row["form_id"] == "62179ae05b6c0b000808de23"
    assert row["email"] == "user-email@example.org"
    # first_name held the whole name and last_name was null: split on the last space.
    assert (row["first_name"], row["last_name"]) == ("Ursula K. Le", "Guin")
    assert row["submitted_at"] == pd.Timestamp("2022-05-10T11:57:44.515Z")
    extra = json.loads(row["fields_json"])
    assert extra["message"] == "El nombre del mundo es Bosque"
    assert extra["lang"] == "es"
    assert extra["_form_name"] == "contact"


@pytest.mark.parametrize("name", ["webflow_form_submission_v2_captured_example.headers.txt"])
def test_headers_file_is_not_a_form_file(realdata: Path, name: str) -> None:
    from uds_pipelines.lib.ingest.forms.reader import SUPPORTED_SUFFIXES

    assert (realdata / "forms" / name).suffix not in SUPPORTED_SUFFIXES
    result = parse_form_file(realdata / "forms" / name)
    assert result.records.empty and result.conserved
    assert result.quarantine[0].reason == "unsupported file type: .txt"


def test_every_realdata_form_file_parses(realdata: Path) -> None:
    files = sorted((realdata / "forms").glob("*.json"))
    assert len(files) == 7
    result_ids = [parse_form_file(p).records.iloc[0]["submission_id"] for p in files]
    assert all(result_ids)
