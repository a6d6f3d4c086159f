"""Destination formats: each platform's headers, normalization and hashing, from its own documentation.

Sources (cited per test):
- Google Customer Match, hashed file: https://support.google.com/google-ads/answer/7476159 (headers
  Email, Phone, First Name, Last Name, Country, Zip; Country and Zip never hashed) and its CSV
  template https://g.co/wudy8r ("Lowercase all characters and remove all extra spaces before after
  or in between email addresses and names"; "Phone numbers must be formatted as E.164 prior to
  hashing"; example rows `test@gmail.com,john,smith,us,94016` and `zoë,pérez,sg,WC2H 8LG`).
- Meta customer file: https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
  ("Hashing and normalizing data": PHONE "Remove symbols, letters, and any leading zeros", with the
  country code; FN/LN lower-case, no punctuation, special characters in UTF-8; COUNTRY two-letter
  ISO code in lower-case; DOB YYYYMMDD; EXTERN_ID not hashed) and the customer-list help page
  https://www.facebook.com/business/help/2082575038703844 (column keys email, phone, fn, ln, zip,
  ct, st, country, dob, ...).
- TikTok customer file (same phone rule as Meta, and the only documented example *hash* we found):
  https://ads.tiktok.com/help/article/list-of-supported-ids-and-formats-for-a-customer-file
  ("janedoe@gmail.com" -> d6117306...; "(657)777-0000" -> "16577770000").

Where a platform publishes no example hash, the expected hex below was computed by us as the
SHA-256 of the documented normalized example and is written out literally, so the test does not
depend on the code's own hashing.
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from uds_pipelines.lib import lake
from uds_pipelines.lib.audiences import (
    audience_members_table,
    check_audience,
    parse_audiences,
    plan_audience,
    write_audience_files,
)
from uds_pipelines.lib.audiences.destinations import NORMALIZERS
from uds_pipelines.lib.audiences.export import destination_rows
from uds_pipelines.lib.audiences.plan import FORMAT_COLUMNS, AudiencePlan
from uds_pipelines.lib.masking import DROP_COLUMNS
from uds_pipelines_tests.lib.segments.helpers import PURPOSES, write_profiles

AS_OF = datetime(2026, 1, 31, tzinfo=UTC)
# Documented by TikTok: SHA-256 of the normalized email "janedoe@gmail.com".
JANEDOE_SHA256 = "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"
# Computed by us from documented normalized examples (no published hash):
US_SHA256 = "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"  # Meta country "us"
SMITH_SHA256 = "6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd"  # "smith"
PHONE_16577770000_SHA256 = "8d7bdaaf75196f351d22942fc0dd79304ffabc3eaf3339460ef9da0773e3aec2"
PHONE_PLUS_16577770000_SHA256 = "a6e82c2f4091baff57a4f33d01efb65bfbeacbbfbcfaa9d0ff9f57d28d78fedb"

GOOGLE_HEADERS = ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
META_HEADERS = ["email", "phone", "fn", "ln", "zip", "ct", "country", "dob", "extern_id"]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def con():
    connection = lake.duckdb_connection(memory_limit="256MB")
    yield connection
    connection.close()


def _plan(con, tmp_path, fmt: str, profiles: list[dict]) -> AudiencePlan:
    relation = write_profiles(tmp_path / f"profiles_{fmt}.parquet", profiles)
    ids = [p["customer_id"] for p in profiles]
    members = ", ".join(f"('{c}', 'vip')" for c in ids)
    consents = ", ".join(f"('{c}', 'ad_targeting', true)" for c in ids)
    con.execute(f"CREATE OR REPLACE TABLE membership AS FROM (VALUES {members}) AS t(customer_id, segment)")
    con.execute(
        f"CREATE OR REPLACE TABLE consent AS FROM (VALUES {consents}) AS t(customer_id, purpose, granted)"
    )
    audiences, errors = parse_audiences(
        [{"name": f"vip_{fmt}", "segment": "vip", "purpose": "ad_targeting", "format": fmt}], PURPOSES
    )
    assert errors == []
    return plan_audience(con, audiences[0], "membership", relation, "consent")


def _read_csv(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_meta_phone_is_hashed_as_digits_without_plus(con, tmp_path):
    # Meta: "Remove symbols, letters, and any leading zeros"; the number keeps its country code
    # (https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences).
    plan = _plan(con, tmp_path, "meta_custom_audience", [{"customer_id": "C1", "phone": "+14155550123"}])
    row = plan.rows.to_pylist()[0]
    assert row["phone"] == sha("14155550123")
    assert row["phone"] != sha("+14155550123")


@pytest.mark.parametrize(
    ("normalizer", "raw", "normalized"),
    [
        # Google template (https://g.co/wudy8r): names lower-cased, no spaces, accents kept
        ("name_google", " John ", "john"),
        ("name_google", "Zoë", "zoë"),
        ("email", " Test@Gmail.com ", "test@gmail.com"),
        ("phone_e164", "+1 (800) 888-8888", "+18008888888"),
        ("country_upper", "us", "US"),
        ("zip_clear", " 94016 ", "94016"),
        ("zip_clear", "WC2H 8LG", "WC2H 8LG"),
        # TikTok's documented phone examples, which Meta's rule gives as well
        ("phone_digits", "+1 (657) 777-0000", "16577770000"),
        ("phone_digits", "+374-93-828222", "37493828222"),
        ("phone_digits", "0044 20 7031 3000", "442070313000"),  # "any leading zeros"
        # Meta: lower-case, no punctuation, UTF-8 letters kept; country lower-case; dob YYYYMMDD
        ("letters_lower", "Mary", "mary"),
        ("letters_lower", "O'Brien-Smith", "obriensmith"),
        ("letters_lower", "Valéry", "valéry"),
        ("letters_lower", "Menlo Park", "menlopark"),
        ("country_lower", "US", "us"),
        ("country_lower", "USA", None),  # not ISO 3166-1 alpha-2: left empty rather than wrong
        ("zip_meta", "WC2H 8LG", "wc2h8lg"),
        ("date_yyyymmdd", "1997-02-16", "19970216"),
    ],
)
def test_normalizers_follow_the_documented_examples(con, normalizer, raw, normalized):
    sql = NORMALIZERS[normalizer].format(x="v")
    assert (
        con.execute(f"SELECT nullif({sql}, '') FROM (SELECT CAST(? AS VARCHAR) AS v)", [raw]).fetchone()[0]
        == normalized
    )


def test_google_customer_match_file(con, tmp_path):
    profiles = [
        # the template's example rows (https://g.co/wudy8r), phone in the E.164 our profiles hold
        {
            "customer_id": "C1",
            "email": "Test@Gmail.com",
            "phone": "+18008888888",
            "first_name": "John",
            "last_name": "Smith",
            "country": "US",
        },
        {
            "customer_id": "C2",
            "email": "janedoe@gmail.com",
            "first_name": "Zoë",
            "last_name": "Pérez",
            "country": "SG",
        },
        {"customer_id": "C3", "phone": "+16577770000"},
    ]
    plan = _plan(con, tmp_path, "google_customer_match", profiles)
    assert plan.rows.column_names == ["customer_id", *GOOGLE_HEADERS]
    rows = {r["customer_id"]: r for r in plan.rows.to_pylist()}
    assert rows["C1"] == {
        "customer_id": "C1",
        "Email": sha("test@gmail.com"),
        "Phone": sha("+18008888888"),
        "First Name": sha("john"),
        "Last Name": SMITH_SHA256,
        "Country": "US",  # in clear, as Google requires
        "Zip": None,  # no postcode on profiles: an empty optional column
    }
    assert rows["C2"]["Email"] == JANEDOE_SHA256
    assert (rows["C2"]["First Name"], rows["C2"]["Last Name"]) == (sha("zoë"), sha("pérez"))
    assert rows["C3"]["Phone"] == PHONE_PLUS_16577770000_SHA256  # E.164 with '+', unlike Meta
    assert check_audience(plan)[0]
    csv_path, manifest_path = write_audience_files(plan, tmp_path / "exports", "run-1", AS_OF)
    lines = _read_csv(csv_path)
    assert lines[0] == GOOGLE_HEADERS  # exactly Google's headers: no id of ours
    assert lines[1] == [sha("test@gmail.com"), sha("+18008888888"), sha("john"), SMITH_SHA256, "US", ""]
    assert not any(c in csv_path.read_text() for c in ("C1", "C2", "@", "John"))
    assert json.loads(manifest_path.read_text())["columns"] == GOOGLE_HEADERS


def test_meta_custom_audience_file(con, tmp_path):
    profiles = [
        {
            "customer_id": "C1",
            "email": " JaneDoe@Gmail.com",
            "phone": "+16577770000",
            "first_name": "Mary",
            "last_name": "Smith",
            "country": "US",
        },
        {"customer_id": "C2", "first_name": "Valéry", "country": None},
    ]
    plan = _plan(con, tmp_path, "meta_custom_audience", profiles)
    rows = {r["customer_id"]: r for r in plan.rows.to_pylist()}
    assert rows["C1"] == {
        "customer_id": "C1",
        "email": JANEDOE_SHA256,
        "phone": PHONE_16577770000_SHA256,
        "fn": sha("mary"),
        "ln": SMITH_SHA256,
        "zip": None,
        "ct": None,
        "country": US_SHA256,  # Meta hashes the country too
        "dob": None,
        "extern_id": "C1",  # our id, not hashed, so a removal or an erasure finds the row
    }
    assert rows["C2"]["fn"] == sha("valéry") and rows["C2"]["email"] is None
    assert plan.counts["exported"] == 2  # Meta rows always carry extern_id
    csv_path, _ = write_audience_files(plan, tmp_path / "exports", "run-1", AS_OF)
    lines = _read_csv(csv_path)
    assert lines[0] == META_HEADERS
    assert lines[1][-1] == "C1" and lines[1][1] == PHONE_16577770000_SHA256


def test_google_rows_without_email_or_phone_are_counted_not_written(con, tmp_path):
    profiles = [
        {"customer_id": "C1", "email": "a@example.com"},
        {"customer_id": "C2", "first_name": "Ann", "last_name": "Lee", "country": "US"},  # no zip either
    ]
    plan = _plan(con, tmp_path, "google_customer_match", profiles)
    assert plan.rows["customer_id"].to_pylist() == ["C1"]
    assert plan.counts["excluded_no_match_key"] == 1
    assert plan.counts["in_segment"] == 2 and plan.counts["exported"] == 1
    assert check_audience(plan)[0]


def test_members_table_round_trips_and_checks_catch_bad_hashes(con, tmp_path):
    plan = _plan(
        con,
        tmp_path,
        "meta_custom_audience",
        [{"customer_id": "C1", "email": "a@example.com", "phone": "+14155550123", "first_name": "Ann"}],
    )
    members = audience_members_table([plan], AS_OF)
    row = members.to_pylist()[0]
    assert row["customer_id"] == "C1" and row["email"] is None and row["email_sha256"] is None
    assert json.loads(row["destination_fields"])["phone"] == sha("14155550123")
    assert "destination_fields" in DROP_COLUMNS  # personal: never shown in a metadata preview
    back = destination_rows(members, "meta_custom_audience").select(FORMAT_COLUMNS["meta_custom_audience"])
    assert back.equals(plan.rows)
    tampered = back.set_column(2, "phone", pa.array(["+14155550123"], pa.string()))  # unhashed
    passed, details = check_audience(AudiencePlan(plan.audience, tampered, plan.counts, "consent", None, con))
    assert not passed and details["malformed_hashes"] == 1


def test_members_table_round_trips_every_row_in_order(con, tmp_path):
    """The platform cells go to JSON and back in DuckDB, not a Python call per row: many rows
    (parallel scans) keep their order, and quotes, accents, backslashes and missing cells survive."""
    small = _plan(con, tmp_path, "google_customer_match", [{"customer_id": "C1", "email": "a@example.com"}])
    n = 150_000
    names = ['Ann "the" O\'Hara', "Valéry", "back\\slash", None, "漢字"]
    rows = pa.table(
        {
            "customer_id": [f"C{i:06d}" for i in range(n)],
            **{
                h: [f"{h}-{i}" if i % 7 else None for i in range(n)]
                for h in GOOGLE_HEADERS
                if h != "First Name"
            },
            "First Name": [names[i % len(names)] for i in range(n)],
        }
    ).select(FORMAT_COLUMNS["google_customer_match"])
    plan = AudiencePlan(small.audience, rows, small.counts, "consent", None, con)
    members = audience_members_table([plan], AS_OF)
    assert json.loads(members["destination_fields"][3].as_py()) == {
        h: rows[h][3].as_py() for h in GOOGLE_HEADERS
    }
    back = destination_rows(members, "google_customer_match").select(FORMAT_COLUMNS["google_customer_match"])
    assert back.equals(rows)
