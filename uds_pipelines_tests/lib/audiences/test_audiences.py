"""Audiences: consent and suppression exclusions, the blocking check, files, manifest, hashing."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import timedelta

import pyarrow as pa
import pytest

from uds_pipelines.lib import lake
from uds_pipelines.lib.audiences import (
    AudienceCheckFailed,
    audience_members_table,
    check_audience,
    hash_email,
    hash_phone,
    load_audiences,
    parse_audiences,
    plan_audience,
    write_audience_files,
)
from uds_pipelines.lib.audiences.hashing import email_sha256_sql, phone_sha256_sql
from uds_pipelines.lib.config import CONFIG_DIR
from uds_pipelines.lib.segments import load_segments
from uds_pipelines_tests.lib.segments.helpers import AS_OF, PURPOSES, write_profiles

AS_OF_DT = AS_OF.to_pydatetime()


@pytest.fixture
def env(tmp_path):
    con = lake.duckdb_connection(memory_limit="512MB")
    profiles = write_profiles(
        tmp_path / "profiles.parquet",
        [
            {
                "customer_id": "C1",
                "email": " Ann@Example.COM ",
                "phone": "+14155550101",
                "first_name": "Ann",
                "last_name": "Lee",
            },
            {
                "customer_id": "C2",
                "email": '=HYPERLINK("http://x")@example.com',
                "first_name": "+cmd",
                "last_name": "-2+3",
                "phone": None,
            },
            {"customer_id": "C3", "email": "nocons@example.com"},  # no consent statement at all
            {"customer_id": "C4", "email": "optout@example.com"},  # said no
            {"customer_id": "C5", "email": "erased@example.com"},  # consented but suppressed
            {"customer_id": "C6", "email": "other@example.com"},  # consented, not in the segment
            {"customer_id": "C7", "email": None, "phone": "+447700900123"},  # hashed: phone only
        ],
    )
    con.execute(
        """
        CREATE TABLE membership AS SELECT * FROM (VALUES
            ('C1', 'vip'), ('C2', 'vip'), ('C3', 'vip'), ('C4', 'vip'), ('C5', 'vip'), ('C7', 'vip'),
            ('C6', 'other'), ('GONE', 'vip')
        ) AS t(customer_id, segment);
        CREATE TABLE consent AS SELECT * FROM (VALUES
            ('C1', 'email_marketing', true), ('C2', 'email_marketing', true),
            ('C4', 'email_marketing', false), ('C5', 'email_marketing', true),
            ('C6', 'email_marketing', true), ('C7', 'email_marketing', true),
            ('C1', 'ad_targeting', true), ('C7', 'ad_targeting', true)
        ) AS t(customer_id, purpose, granted);
        CREATE TABLE suppressed AS SELECT 'C5' AS customer_id;
        """
    )
    yield con, profiles, tmp_path
    con.close()


def _audience(fmt: str = "email", purpose: str = "email_marketing"):
    audiences, errors = parse_audiences(
        [
            {
                "name": f"vip_{fmt}",
                "segment": "vip",
                "purpose": purpose,
                "format": fmt,
                "destinations": ["file"],
            }
        ],
        PURPOSES,
    )
    assert errors == []
    return audiences[0]


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_plan_excludes_no_consent_and_suppressed_and_counts_add_up(env):
    con, profiles, tmp_path = env
    plan = plan_audience(con, _audience(), "membership", profiles, "consent", "suppressed")
    assert sorted(plan.rows.column("customer_id").to_pylist()) == ["C1", "C2", "C7"]
    counts = plan.counts
    assert counts["in_segment"] == 6
    assert counts["excluded_no_consent"] == 2
    assert counts["excluded_erased_or_suppressed"] == 1
    assert counts["exported"] == 3
    assert counts["members_without_profile"] == 1
    assert counts["exported_without_contact"] == 1
    passed, details = check_audience(plan)
    assert passed, details
    paths = write_audience_files(plan, tmp_path / "exports", "run-1", AS_OF_DT)
    csv_path, manifest_path = paths
    assert csv_path == tmp_path / "exports" / "audiences" / "vip_email" / "vip_email-20260131.csv"
    rows = _read_csv(csv_path)
    assert rows[0] == ["customer_id", "email", "first_name", "last_name"]
    assert {r[0] for r in rows[1:]} == {"C1", "C2", "C7"}
    manifest = json.loads(manifest_path.read_text())
    c = manifest["counts"]
    assert c["in_segment"] == c["exported"] + c["excluded_no_consent"] + c["excluded_erased_or_suppressed"]
    assert c["exported"] == len(rows) - 1
    assert manifest["file"] == csv_path.name and manifest["run_id"] == "run-1"
    assert (manifest["format"], manifest["purpose"], manifest["segment"]) == (
        "email",
        "email_marketing",
        "vip",
    )
    assert manifest["sha256"] == hashlib.sha256(csv_path.read_bytes()).hexdigest()
    assert manifest["as_of"].startswith("2026-01-31T00:00:00")


def test_injected_row_without_consent_fails_check_and_is_never_written(env):
    con, profiles, tmp_path = env
    plan = plan_audience(con, _audience(), "membership", profiles, "consent", "suppressed")
    for intruder in ("C3", "C4", "C5"):
        extra = pa.table(
            {"customer_id": [intruder], "email": ["x@example.com"], "first_name": ["X"], "last_name": ["Y"]}
        )
        plan_bad = type(plan)(
            plan.audience,
            pa.concat_tables([plan.rows, extra]),
            dict(plan.counts),
            plan.effective_consent,
            plan.excluded_customers_sql,
            con,
        )
        plan_bad.counts["exported"] += 1
        plan_bad.counts["in_segment"] += 1
        passed, details = check_audience(plan_bad)
        assert not passed
        assert details["rows_without_consent"] + details["rows_erased_or_suppressed"] >= 1
        assert "x@example.com" not in json.dumps(details)
        with pytest.raises(AudienceCheckFailed) as info:
            write_audience_files(plan_bad, tmp_path / "exports", "run-x", AS_OF_DT)
        assert "@" not in str(info.value)
    assert not (tmp_path / "exports" / "audiences" / "vip_email").exists()
    # Counts that do not add up fail as well.
    plan.counts["in_segment"] += 1
    assert check_audience(plan)[0] is False


def test_hashed_format_uses_normalized_email_and_e164_phone(env):
    con, profiles, tmp_path = env
    plan = plan_audience(
        con, _audience("hashed", "ad_targeting"), "membership", profiles, "consent", "suppressed"
    )
    assert plan.rows.column_names == ["customer_id", "email_sha256", "phone_sha256"]
    rows = {r["customer_id"]: r for r in plan.rows.to_pylist()}
    assert set(rows) == {"C1", "C7"}
    assert rows["C1"]["email_sha256"] == hashlib.sha256(b"ann@example.com").hexdigest()
    assert rows["C1"]["phone_sha256"] == hashlib.sha256(b"+14155550101").hexdigest()
    assert rows["C7"]["email_sha256"] is None
    assert rows["C7"]["phone_sha256"] == hashlib.sha256(b"+447700900123").hexdigest()
    assert check_audience(plan)[0]
    csv_path, _ = write_audience_files(plan, tmp_path / "exports", "run-1", AS_OF_DT)
    text = csv_path.read_text()
    assert "@" not in text and "ann" not in text.lower()
    assert _read_csv(csv_path)[0] == ["customer_id", "email_sha256", "phone_sha256"]


@pytest.mark.parametrize(
    "value", ["Ann@Example.com", "  bob@x.org\t", "\nZ@Y.IO ", "", "   ", None, "ÉMILE@exämple.fr"]
)
def test_python_and_sql_hashes_agree(value):
    con = lake.duckdb_connection(memory_limit="256MB")
    got_email, got_phone = con.execute(
        f"SELECT {email_sha256_sql('v')}, {phone_sha256_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [value]
    ).fetchone()
    assert got_email == hash_email(value)
    assert got_phone == hash_phone(value)
    if value and value.strip():
        assert hash_email(value) == hashlib.sha256(value.strip().lower().encode()).hexdigest()
    assert hash_phone("+1 (415) 555-0101") == hashlib.sha256(b"+14155550101").hexdigest()


def test_csv_injection_neutralized_but_ids_untouched(env):
    con, profiles, tmp_path = env
    con.execute(
        "INSERT INTO membership VALUES ('=C8', 'vip'); INSERT INTO consent VALUES ('=C8', 'email_marketing', true)"
    )
    con.execute(f"CREATE TABLE p2 AS SELECT * FROM {profiles}")
    con.execute(
        "INSERT INTO p2 (customer_id, email, first_name, last_name) VALUES ('=C8', '@x@example.com', '\tTab', '\rCR')"
    )
    plan = plan_audience(con, _audience(), "membership", "p2", "consent", "suppressed")
    csv_path, _ = write_audience_files(plan, tmp_path / "exports", "run-1", AS_OF_DT)
    rows = {r[0]: r for r in _read_csv(csv_path)[1:]}
    assert rows["C2"][1] == '\'=HYPERLINK("http://x")@example.com'
    assert rows["C2"][2:] == ["'+cmd", "'-2+3"]
    assert rows["=C8"][1:] == ["'@x@example.com", "'\tTab", "'\rCR"]
    assert rows["C1"][1:] == [" Ann@Example.COM ", "Ann", "Lee"]


def test_same_day_rerun_replaces_and_next_day_adds(env):
    con, profiles, tmp_path = env
    plan = plan_audience(con, _audience(), "membership", profiles, "consent", "suppressed")
    exports = tmp_path / "exports"
    first, _ = write_audience_files(plan, exports, "run-1", AS_OF_DT)
    con.execute("DELETE FROM consent WHERE customer_id = 'C2'")
    plan2 = plan_audience(con, _audience(), "membership", profiles, "consent", "suppressed")
    second, manifest = write_audience_files(plan2, exports, "run-2", AS_OF_DT + timedelta(hours=3))
    assert first == second and len(_read_csv(second)) == 3
    assert json.loads(manifest.read_text())["run_id"] == "run-2"
    third, _ = write_audience_files(plan2, exports, "run-3", AS_OF_DT + timedelta(days=1))
    assert third.name == "vip_email-20260201.csv"
    files = sorted(p.name for p in (exports / "audiences" / "vip_email").iterdir())
    assert files == ["manifest.json", "vip_email-20260131.csv", "vip_email-20260201.csv"]


def test_audience_definitions_validation_and_shipped_defaults():
    segments, _ = load_segments(CONFIG_DIR / "segments.yaml")
    audiences, errors = load_audiences(CONFIG_DIR / "audiences.yaml", PURPOSES, [s.name for s in segments])
    assert errors == []
    assert {a.format for a in audiences} == {
        "email",
        "hashed",
        "google_customer_match",
        "meta_custom_audience",
    }
    # ad-platform lists only for people who agreed to ad targeting
    assert {a.purpose for a in audiences if a.format != "email"} == {"ad_targeting"}
    assert all(set(a.destinations) <= {"file", "warehouse"} for a in audiences)
    _, errors = parse_audiences(
        [
            {"name": "a", "segment": "s", "purpose": "email_marketing", "format": "csv"},
            {"name": "b", "segment": "s", "purpose": "postal", "format": "email"},
            {"name": "c", "segment": "missing", "purpose": "email_marketing", "format": "email"},
            {"name": "../evil", "segment": "s", "purpose": "email_marketing", "format": "email"},
            {
                "name": "d",
                "segment": "s",
                "purpose": "email_marketing",
                "format": "email",
                "destinations": ["s3"],
            },
            {"name": "ok", "segment": "s", "purpose": "email_marketing", "format": "email"},
        ],
        PURPOSES,
        ["s"],
    )
    assert [e.name for e in errors] == ["a", "b", "c", "../evil", "d"]
    assert "format" in errors[0].message and "purpose" in errors[1].message and "missing" in errors[2].message


def test_audience_members_table_keeps_hashed_audiences_hashed(env):
    con, profiles, _ = env
    plans = [
        plan_audience(con, _audience(), "membership", profiles, "consent", "suppressed"),
        plan_audience(
            con, _audience("hashed", "ad_targeting"), "membership", profiles, "consent", "suppressed"
        ),
    ]
    table = audience_members_table(plans, AS_OF_DT)
    assert table.num_rows == 5
    hashed = [r for r in table.to_pylist() if r["format"] == "hashed"]
    assert all(r["email"] is None and r["first_name"] is None for r in hashed)
    assert audience_members_table([], AS_OF_DT).num_rows == 0
