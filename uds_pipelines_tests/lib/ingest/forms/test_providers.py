"""Provider detection and field/consent mapping for HubSpot, Typeform, Webflow and Netlify payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from uds_pipelines.lib.ingest.forms import parse_form_file
from uds_pipelines.lib.ingest.forms.detect import detect_provider


def _parse(tmp_path: Path, payload: object, name: str = "p.json"):
    path = tmp_path / name
    path.write_text(json.dumps(payload), encoding="utf-8")
    result = parse_form_file(path)
    assert result.conserved
    return result


def _statements(result) -> set[tuple]:
    return {
        (r.identifier_type, r.identifier, r.purpose, bool(r.granted), r.source)
        for r in result.consents.itertuples()
    }


def test_hubspot_sms_communication_and_legitimate_interest(tmp_path: Path) -> None:
    payload = {
        "fields": [
            {"objectTypeId": "0-1", "name": "Phone Number", "value": "+44 7700 900123"},
            {"objectTypeId": "0-1", "name": "interest", "value": "a"},
            {"objectTypeId": "0-1", "name": "interest", "value": "b"},
        ],
        "legalConsentOptions": {
            "consent": {
                "consentToProcess": True,
                "text": "We store your data.",
                "communications": [
                    {"value": True, "subscriptionTypeId": 11, "text": "Send me SMS offers"},
                    {"value": False, "subscriptionTypeId": 12, "text": "Send me the newsletter"},
                ],
            },
            "legitimateInterest": {
                "value": True,
                "subscriptionTypeId": 13,
                "legalBasis": "LEAD",
                "text": "Texts",
            },
        },
    }
    result = _parse(tmp_path, payload)
    row = result.records.iloc[0]
    assert row["form_provider"] == "hubspot" and row["phone"] == "+44 7700 900123"
    assert pd.isna(row["submitted_at"])  # no submittedAt in the body
    assert json.loads(row["fields_json"])["interest"] == "a;b"
    # No email: only SMS statements can be tied to the phone; the email one is counted, not invented.
    assert _statements(result) == {
        ("phone", "+44 7700 900123", "sms_marketing", True, "form"),
    }
    assert len(result.consents) == 2
    assert result.info["consents_skipped_no_identifier"] == 1
    assert result.info["consent_mappings"]["hubspot communication subscriptionTypeId=12"] == "email_marketing"
    assert (
        result.info["consent_mappings"]["hubspot legitimateInterest subscriptionTypeId=13"] == "sms_marketing"
    )


def test_typeform_consent_booleans_hidden_utms_and_phone(tmp_path: Path) -> None:
    payload = {
        "event_id": "E1",
        "event_type": "form_response",
        "form_response": {
            "form_id": "F1",
            "token": "tok-1",
            "submitted_at": "2024-03-01T10:00:00+01:00",
            "hidden": {"utm_source": "google", "utm_campaign": "spring", "ref": "r9"},
            "definition": {
                "id": "F1",
                "fields": [
                    {"id": "a", "title": "Your email", "type": "email", "ref": "e"},
                    {"id": "b", "title": "Mobile", "type": "phone_number", "ref": "p"},
                    {"id": "c", "title": "Subscribe to our newsletter?", "type": "yes_no", "ref": "n1"},
                    {"id": "d", "title": "Anything?", "type": "yes_no", "ref": "consent_sms_marketing"},
                    {"id": "e", "title": "Do you like cats?", "type": "yes_no", "ref": "cats"},
                    {"id": "f", "title": "Last name", "type": "short_text", "ref": "q6"},
                    {"id": "g", "title": "Country", "type": "dropdown", "ref": "country"},
                ],
            },
            "answers": [
                {"type": "email", "email": "tina@example.com", "field": {"id": "a", "type": "email"}},
                {"type": "phone_number", "phone_number": "+15550001111", "field": {"id": "b"}},
                {"type": "boolean", "boolean": True, "field": {"id": "c", "type": "yes_no"}},
                {"type": "boolean", "boolean": False, "field": {"id": "d", "type": "yes_no"}},
                {"type": "boolean", "boolean": True, "field": {"id": "e", "type": "yes_no"}},
                {"type": "text", "text": "Turner", "field": {"id": "f", "type": "short_text"}},
                {"type": "choice", "choice": {"label": "DE"}, "field": {"id": "g", "type": "dropdown"}},
            ],
        },
    }
    result = _parse(tmp_path, payload)
    row = result.records.iloc[0]
    assert (row["submission_id"], row["form_id"]) == ("tok-1", "F1")
    assert (row["email"], row["phone"], row["last_name"], row["country"]) == (
        "tina@example.com",
        "+15550001111",
        "Turner",
        "DE",
    )
    assert (row["utm_source"], row["utm_campaign"]) == ("google", "spring")
    assert row["submitted_at"] == pd.Timestamp("2024-03-01T09:00:00Z")
    assert json.loads(row["fields_json"])["_hidden"] == {"ref": "r9"}
    assert _statements(result) == {
        ("email", "tina@example.com", "email_marketing", True, "form"),
        ("email", "tina@example.com", "sms_marketing", False, "form"),
    }
    assert set(result.consents["source_record"]) == {"tok-1"}


def test_webflow_checkbox_consent_and_numbered_fields(tmp_path: Path) -> None:
    payload = {
        "triggerType": "form_submission",
        "payload": {
            "name": "Signup",
            "siteId": "s",
            "data": {
                "Name": "Ada King Lovelace",
                "E-mail": "ada@example.com",
                "consent_email_marketing": "on",
            },
            "submittedAt": "2024-01-02T03:04:05.000Z",
            "id": "wf-1",
            "formId": "form-9",
        },
    }
    result = _parse(tmp_path, payload)
    row = result.records.iloc[0]
    assert (row["first_name"], row["last_name"], row["email"]) == ("Ada King", "Lovelace", "ada@example.com")
    assert _statements(result) == {("email", "ada@example.com", "email_marketing", True, "form")}
    assert result.consents.iloc[0]["captured_at"] == pd.Timestamp("2024-01-02T03:04:05Z")


def test_netlify_wrapped_in_function_event_body(tmp_path: Path) -> None:
    submission = {
        "id": "n-1",
        "number": 3,
        "email": "olu@example.com",
        "name": "Olu Ade",
        "first_name": "Olu",
        "last_name": "Ade",
        "data": {"email": "olu@example.com", "name": "Olu Ade", "utm_medium": "email", "Newsletter": "yes"},
        "created_at": "2023-05-01T00:00:00Z",
        "human_fields": {},
        "ordered_human_fields": [],
        "form_id": "f-1",
        "form_name": "contact",
    }
    result = _parse(tmp_path, {"payload": submission, "site": {"url": "https://x.example"}})
    row = result.records.iloc[0]
    assert (row["form_provider"], row["submission_id"], row["form_id"]) == ("netlify", "n-1", "f-1")
    assert (row["first_name"], row["last_name"], row["utm_medium"]) == ("Olu", "Ade", "email")
    assert json.loads(row["fields_json"])["_site"] == "https://x.example"
    assert _statements(result) == {("email", "olu@example.com", "email_marketing", True, "form")}


def test_detection_per_payload_in_one_jsonl(tmp_path: Path, realdata: Path) -> None:
    lines = [
        json.loads((realdata / "forms" / name).read_text())
        for name in (
            "hubspot_forms_v3_submit_docs_example.json",
            "typeform_webhook_docs_example.json",
            "webflow_form_submission_v1_legacy_docs_example.json",
            "webflow_form_submission_v2_docs_example.json",
            "netlify_submission_created_payload_platoniq.json",
        )
    ] + [{"email": "flat@example.com"}]
    path = tmp_path / "all.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    result = parse_form_file(path)
    assert list(result.records["form_provider"]) == [
        "hubspot",
        "typeform",
        "webflow",
        "webflow",
        "netlify",
        "flat",
    ]
    assert result.info["providers"] == {"hubspot": 1, "typeform": 1, "webflow": 2, "netlify": 1, "flat": 1}
    assert [detect_provider(x)[0] for x in lines] == list(result.records["form_provider"])
