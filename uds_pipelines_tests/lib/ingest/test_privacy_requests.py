"""Privacy requests: validation into landed rows or quarantine, and consent requests as statements."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import catalog
from uds_pipelines.lib.ingest.privacy_requests import parse_privacy_file

VALID = [
    {
        "request_id": "r1",
        "type": "erasure",
        "email": "gone@example.com",
        "received_at": "2024-05-01T12:00:00Z",
    },
    {"request_id": "r2", "type": "Access", "customer_id": 12345, "received_at": "2024-05-02T08:00:00+02:00"},
    {
        "request_id": "r3",
        "type": "consent",
        "email": "c@example.com",
        "phone": "+15550009999",
        "received_at": 1714608000,
        "purpose": "Email Marketing",
        "granted": False,
    },
]


def _jsonl(tmp_path: Path, rows: list, name: str = "req.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_valid_requests_land_typed(tmp_path: Path) -> None:
    result = parse_privacy_file(_jsonl(tmp_path, VALID))
    assert result.quarantine == [] and result.conserved
    records = result.records
    assert list(records.columns) == list(catalog.table("landed_privacy").columns)
    assert list(records["type"]) == ["erasure", "access", "consent"]
    assert records.iloc[1]["customer_id"] == "12345"
    assert records.iloc[1]["received_at"] == pd.Timestamp("2024-05-02T06:00:00Z")
    assert str(records["received_at"].dtype) == "datetime64[ns, UTC]"
    assert records.iloc[2]["purpose"] == "email_marketing" and records["granted"].tolist()[2] is False
    assert pd.isna(records.iloc[0]["granted"]) and records["purpose"].tolist()[0] is None
    assert list(records["position"]) == [1, 2, 3]
    assert result.info["types"] == {"erasure": 1, "access": 1, "consent": 1}


def test_consent_request_becomes_statements_per_identifier(tmp_path: Path) -> None:
    result = parse_privacy_file(_jsonl(tmp_path, VALID))
    consents = result.consents
    assert set(zip(consents["identifier_type"], consents["identifier"], strict=True)) == {
        ("email", "c@example.com"),
        ("phone", "+15550009999"),
    }
    assert set(consents["purpose"]) == {"email_marketing"} and not consents["granted"].any()
    assert set(consents["source"]) == {"privacy"} and set(consents["source_record"]) == {"r3"}
    assert (consents["captured_at"] == pd.Timestamp(1714608000, unit="s", tz="UTC")).all()


def test_invalid_requests_are_quarantined_with_reasons(tmp_path: Path) -> None:
    rows = [
        {"type": "erasure", "email": "a@example.com", "received_at": "2024-01-01"},
        {"request_id": "b", "type": "delete_me", "email": "b@example.com", "received_at": "2024-01-01"},
        {"request_id": "c", "type": "access", "received_at": "2024-01-01"},
        {"request_id": "d", "type": "consent", "email": "d@example.com", "received_at": "2024-01-01"},
        {
            "request_id": "e",
            "type": "consent",
            "phone": "+15550001",
            "received_at": "2024-01-01",
            "purpose": "x",
        },
        {"request_id": "f", "type": "erasure", "email": "f@example.com", "received_at": "soon"},
        {"request_id": "g", "type": "erasure", "email": "g@example.com"},
        "[1]",
        {
            "request_id": "h",
            "type": "consent",
            "customer_id": "c1",
            "received_at": "2024-01-01",
            "purpose": "sms",
            "granted": "perhaps",
        },
    ]
    result = parse_privacy_file(_jsonl(tmp_path, rows))
    reasons = {q.position: q.reason for q in result.quarantine}
    assert reasons == {
        1: "missing request_id",
        2: "unknown type 'delete_me' (expected erasure, access or consent)",
        3: "no identifier (email, phone or customer_id)",
        4: "consent request without purpose; consent request without granted",
        5: "consent request without granted",
        6: "unparseable received_at",
        7: "missing received_at",
        8: "expected a JSON object on line 8, got array",
        9: "consent request with unparseable granted",
    }
    assert result.records.empty and result.records_read == 9 and result.conserved
    assert {q.source for q in result.quarantine} == {"privacy"}
    for record in result.quarantine:
        assert "@" not in record.reason and "+1555" not in record.reason


def test_csv_and_json_list_files(tmp_path: Path) -> None:
    csv_path = tmp_path / "req.csv"
    csv_path.write_text(
        "Request ID,Type,Email,Phone,Customer ID,Received At,Purpose,Granted\n"
        "r10,consent,,+447700900000,,2024-06-01T00:00:00Z,sms_marketing,yes\n"
        "r11,erasure,z@example.com,,,2024-06-02T00:00:00Z,,\n"
        "r12,erasure\n"
    )
    result = parse_privacy_file(csv_path)
    assert list(result.records["request_id"]) == ["r10", "r11"]
    assert bool(result.records.iloc[0]["granted"]) is True
    assert [(q.position, q.reason) for q in result.quarantine] == [(3, "ragged row: 2 fields, header has 8")]
    assert list(result.consents["identifier_type"]) == ["phone"] and result.conserved
    json_path = tmp_path / "req.json"
    json_path.write_text(json.dumps(VALID[:2]))
    listed = parse_privacy_file(json_path)
    assert list(listed.records["request_id"]) == ["r1", "r2"] and listed.conserved


def test_unreadable_and_empty_files(tmp_path: Path) -> None:
    empty = tmp_path / "e.json"
    empty.write_bytes(b"")
    assert [(q.position, q.reason) for q in parse_privacy_file(empty).quarantine] == [(0, "empty file")]
    broken = tmp_path / "b.json"
    broken.write_text('{"request_id": "r1",\n "type": }')
    result = parse_privacy_file(broken)
    assert [q.reason for q in result.quarantine] == ["invalid JSON at line 2: Expecting value"]
    assert result.conserved and result.records_read == 1
