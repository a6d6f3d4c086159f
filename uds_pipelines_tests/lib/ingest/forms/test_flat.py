"""Flat objects and CSV rows: tolerant field names, consent_<purpose>, stable ids, lake round trip."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.ingest.forms import parse_form_file
from uds_pipelines.lib.ingest.forms.fields import column_for_key, parse_timestamp, stable_submission_id
from uds_pipelines.lib.ingest.forms.reader import read_items
from uds_pipelines.lib.ingest.landing import to_arrow


def test_field_names_are_case_and_spacing_tolerant() -> None:
    expected = {
        "Email": "email",
        "E-mail": "email",
        "email_address": "email",
        "Email 2": "email",
        "Phone Number": "phone",
        "First Name": "first_name",
        "firstname": "first_name",
        "Last name": "last_name",
        "Name": "name",
        "Country": "country",
        "Date of Birth": "date_of_birth",
        "Address Line 1": "address_line1",
        "ZIP": "postcode",
        "UTM Source": "utm_source",
        "address 2": None,
        "Message": None,
    }
    assert {key: column_for_key(key) for key in expected} == expected


def test_flat_csv_rows_with_consents(tmp_path: Path) -> None:
    text = (
        "Submission ID,E-mail,Phone Number,Name,Country,Submitted At,consent_email_marketing,Consent SMS Marketing,"
        "date_of_birth,address_line1,city,postcode,utm_source,Message\n"
        "s1,ann@example.com,,Ann Marie Lee,GB,2024-02-01T10:00:00Z,yes,maybe,1990-01-31,1 High St,Leeds,LS1 1AA,fb,hi\n"
        ",,+447700900123,,,1706781600,,1,,,,,,\n"
    )
    path = tmp_path / "flat.csv"
    path.write_text(text, encoding="utf-8")
    result = parse_form_file(path)
    assert result.conserved and result.quarantine == []
    first, second = result.records.iloc[0], result.records.iloc[1]
    assert first["submission_id"] == "s1" and first["form_provider"] == "flat"
    assert (first["first_name"], first["last_name"]) == ("Ann Marie", "Lee")
    assert (first["date_of_birth"], first["address_line1"], first["city"], first["postcode"]) == (
        "1990-01-31",
        "1 High St",
        "Leeds",
        "LS1 1AA",
    )
    assert first["utm_source"] == "fb" and json.loads(first["fields_json"])["Message"] == "hi"
    assert first["submitted_at"] == pd.Timestamp("2024-02-01T10:00:00Z")
    assert second["submitted_at"] == pd.Timestamp(1706781600, unit="s", tz="UTC")
    assert second["submission_id"].startswith("frm_")
    statements = {
        (r.identifier_type, r.identifier, r.purpose, bool(r.granted)) for r in result.consents.itertuples()
    }
    assert statements == {
        ("email", "ann@example.com", "email_marketing", True),
        ("phone", "+447700900123", "sms_marketing", True),
    }
    # "maybe" is neither yes nor no: that statement is skipped and noted, the row still lands.
    assert result.info["notes"] == {
        "consent value for Consent SMS Marketing not understood: statement skipped": 1
    }


def test_same_payload_gets_same_id_across_files(tmp_path: Path) -> None:
    payload = {"email": "x@example.com", "first_name": "X"}
    a, b = tmp_path / "a.json", tmp_path / "b.jsonl"
    a.write_text(json.dumps(payload))
    b.write_text(json.dumps({"first_name": "X", "email": "x@example.com"}) + "\n")
    id_a = parse_form_file(a).records.iloc[0]["submission_id"]
    id_b = parse_form_file(b).records.iloc[0]["submission_id"]
    assert id_a == id_b == stable_submission_id(payload)
    assert id_a != stable_submission_id({**payload, "first_name": "Y"})


def test_cp1252_csv_is_decoded_and_recorded(tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes("email;first_name\nrene@example.com;René\n".encode("cp1252"))
    result = parse_form_file(path)
    assert result.records.iloc[0]["first_name"] == "René"
    assert result.info["delimiter"] == ";"
    assert result.info["encoding"].startswith("fallback cp1252")


def test_unparseable_submitted_at_keeps_the_row(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"email": "a@example.com", "submitted_at": "last tuesday"}))
    result = parse_form_file(path)
    row = result.records.iloc[0]
    assert pd.isna(row["submitted_at"]) and json.loads(row["fields_json"])["submitted_at"] == "last tuesday"
    assert parse_timestamp("1517927174000") == pd.Timestamp("2018-02-06T14:26:14Z")
    assert parse_timestamp("now") is None and parse_timestamp(True) is None


def test_landed_frame_round_trips_through_parquet_and_duckdb(tmp_path: Path, realdata: Path) -> None:
    result = parse_form_file(realdata / "forms" / "webflow_form_submission_v2_docs_example.json")
    table = to_arrow(result.records, catalog.table("landed_forms").schema)  # what the landing asset writes
    assert table.column_names == list(result.records.columns)
    final = lake.write_parquet_atomic(table, tmp_path / "forms" / "batch.parquet")
    con = lake.duckdb_connection("256MB")
    try:
        types = {
            r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{final}')").fetchall()
        }
        row = con.execute(f"SELECT email, phone, position FROM read_parquet('{final}')").fetchone()
    finally:
        con.close()
    assert types["submitted_at"] == "TIMESTAMP WITH TIME ZONE" and types["position"] == "BIGINT"
    assert row == ("zaphod@heartofgold.ai", "15550000000", 1)


def test_jsonl_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = {"first_name": "P", "padding": "x" * 2000, "consent_analytics": "no"}
    with open(path, "w") as handle:
        for i in range(3000):
            handle.write(json.dumps({**line, "email": f"p{i}@example.com"}) + "\n")
    tracemalloc.start()
    count = sum(1 for item in read_items(path, {}) if item.payload is not None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 3000
    assert peak < path.stat().st_size / 20  # line by line, never the whole 6 MB file at once
    started = time.perf_counter()
    result = parse_form_file(path)
    assert time.perf_counter() - started < 5
    assert len(result.records) == 3000 and len(result.consents) == 3000 and result.conserved
    assert not result.consents["granted"].any()
