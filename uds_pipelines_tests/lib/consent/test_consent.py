"""Consent ledger and effective consent against adversarial statement sequences."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from uds_pipelines.lib import catalog, lake, lake_views
from uds_pipelines.lib.consent import build_consent_ledger, effective_consent, wide_consent_sql, write_ledger
from uds_pipelines.lib.ingest.results import consent_frame

PURPOSES = ("email_marketing", "sms_marketing", "ad_targeting", "analytics")


def _stmt(id_type, identifier, purpose, granted, at, source="form", record="r"):
    return {
        "identifier_type": id_type,
        "identifier": identifier,
        "purpose": purpose,
        "granted": granted,
        "captured_at": at,
        "source": source,
        "source_record": record,
        "source_file": f"{source}.jsonl",
    }


@pytest.fixture
def con():
    connection = lake.duckdb_connection(memory_limit="512MB")
    # Mapping from match keys to customers, as identity resolution would provide it.
    connection.execute(
        """
        CREATE TABLE identifier_customers AS SELECT * FROM (VALUES
            ('email', 'ann@example.com', 'C1'),
            ('phone', '+14155550101', 'C1'),
            ('stripe_customer', 'cus_Ann1', 'C1'),
            ('email', 'bob@example.com', 'C2'),
            ('email', 'cy@example.com', 'C3'),
            ('email', 'dee@example.com', 'C4')
        ) AS t(identifier_type, identifier_key, customer_id)
        """
    )
    yield connection
    connection.close()


def _landed(con, tmp_path: Path, rows: list[dict], name: str = "a.parquet") -> str:
    """Land `rows` in the lake under `tmp_path` and return the view over them (`landed_consent`)."""
    lake_dir = tmp_path / "lake"
    lake.write_parquet_atomic(consent_frame(rows), catalog.path(lake_dir, "landed_consent") / name)
    lake_views.register(con, lake_dir, ["landed_consent"])
    return "landed_consent"


def _decisions(con, table: str) -> dict[tuple[str, str], tuple[bool, str]]:
    rows = con.execute(f"SELECT customer_id, purpose, granted, decided_by_source FROM {table}").fetchall()
    return {(c, p): (g, s) for c, p, g, s in rows}


def test_latest_statement_across_identifiers_and_sources_decides(con, tmp_path):
    statements = _landed(
        con,
        tmp_path,
        [
            # C1 opts in by email, then opts out through their phone: the phone statement is later.
            _stmt("email", " Ann@Example.com ", "email_marketing", True, "2025-01-01T10:00:00Z", "form"),
            _stmt("phone", "+14155550101", "email_marketing", False, "2025-02-01T10:00:00Z", "survey"),
            # Opt-out, then a later opt-in via the Stripe id: the later yes wins.
            _stmt("email", "ann@example.com", "sms_marketing", False, "2025-01-01T00:00:00Z"),
            _stmt("stripe_customer", "cus_Ann1", "sms_marketing", True, "2025-03-01T00:00:00Z", "stripe"),
            # Same instant yes and no from two sources: no.
            _stmt("email", "bob@example.com", "email_marketing", True, "2025-05-05T05:05:05Z", "form"),
            _stmt("email", "bob@example.com", "email_marketing", False, "2025-05-05T05:05:05Z", "privacy"),
            # A statement captured long before any purchase still counts.
            _stmt("email", "cy@example.com", "analytics", True, "2001-01-01T00:00:00Z", "survey"),
        ],
    )
    ledger = build_consent_ledger(con, [statements], PURPOSES)
    assert ledger.rows == 7 and ledger.unusable == {} and ledger.unknown_purposes == {}
    result = effective_consent(con, ledger, "identifier_customers", PURPOSES)
    got = _decisions(con, result.table)
    assert got[("C1", "email_marketing")] == (False, "survey")
    assert got[("C1", "sms_marketing")] == (True, "stripe")
    assert got[("C2", "email_marketing")] == (False, "privacy")
    assert got[("C3", "analytics")] == (True, "survey")
    assert ("C4", "email_marketing") not in got
    decided = con.execute(
        f"SELECT decided_at FROM {result.table} WHERE customer_id = 'C1' AND purpose = 'email_marketing'"
    ).fetchone()[0]
    assert decided == pd.Timestamp("2025-02-01T10:00:00Z")
    assert result.granted_by_purpose["sms_marketing"] == 1


def test_unknown_purpose_and_unusable_statements_are_kept_and_reported(con, tmp_path):
    statements = _landed(
        con,
        tmp_path,
        [
            _stmt("email", "ann@example.com", "Postal_Mail", True, "2025-01-01T00:00:00Z"),
            _stmt("email", "ann@example.com", "postal_mail", False, "2025-01-02T00:00:00Z"),
            _stmt("email", "ann@example.com", "email_marketing", None, "2025-01-02T00:00:00Z"),
            _stmt("email", "", "email_marketing", True, "2025-01-02T00:00:00Z"),
            _stmt("fax", "123", "email_marketing", True, "2025-01-02T00:00:00Z"),
            _stmt("email", "ann@example.com", "email_marketing", True, None),
            _stmt("email", "ann@example.com", "analytics", True, "2025-01-03T00:00:00Z"),
        ],
    )
    ledger = build_consent_ledger(con, [statements], PURPOSES)
    assert ledger.rows == 7
    assert ledger.unknown_purposes == {"postal_mail": 2}
    assert ledger.unusable == {
        "missing identifier": 1,
        "unknown identifier type": 1,
        "missing or invalid granted": 1,
        "missing or invalid captured_at": 1,
    }
    result = effective_consent(con, ledger, "identifier_customers", PURPOSES)
    assert _decisions(con, result.table) == {("C1", "analytics"): (True, "form")}
    assert write_ledger(con, ledger, tmp_path / "lake") == 7
    # The written ledger (its view) is itself a valid input for effective consent.
    again = effective_consent(con, "consent_ledger", "identifier_customers", PURPOSES, table="eff2")
    assert _decisions(con, again.table) == {("C1", "analytics"): (True, "form")}


def test_multiple_sources_naive_timestamps_and_unmatched(con, tmp_path):
    landed = _landed(
        con, tmp_path, [_stmt("email", "dee@example.com", "ad_targeting", True, "2025-01-01T00:00:00Z")]
    )
    # A staging relation with naive (UTC) timestamps and text booleans must still be ordered correctly.
    con.execute(
        """
        CREATE TABLE stripe_consents AS SELECT * FROM (VALUES
            ('email', 'dee@example.com', 'ad_targeting', 'false', TIMESTAMP '2025-01-01 00:30:00',
             'stripe', 'cs_1', 'events_api'),
            ('email', 'nobody@example.com', 'ad_targeting', 'true', TIMESTAMP '2025-01-01 00:30:00',
             'stripe', 'cs_2', 'events_api')
        ) AS t(identifier_type, identifier, purpose, granted, captured_at, source, source_record, source_file)
        """
    )
    con.execute("SET TimeZone = 'America/Los_Angeles'")
    ledger = build_consent_ledger(con, [landed, "stripe_consents"], PURPOSES)
    result = effective_consent(con, ledger, "identifier_customers", PURPOSES)
    assert _decisions(con, result.table) == {("C4", "ad_targeting"): (False, "stripe")}
    assert result.unmatched_statements == 1


def test_wide_form_defaults_to_no(con, tmp_path):
    statements = _landed(
        con,
        tmp_path,
        [
            _stmt("email", "ann@example.com", "email_marketing", True, "2025-01-01T00:00:00Z"),
            _stmt("email", "bob@example.com", "analytics", False, "2025-01-01T00:00:00Z"),
        ],
    )
    ledger = build_consent_ledger(con, [statements], PURPOSES)
    result = effective_consent(con, ledger, "identifier_customers", PURPOSES)
    con.execute("CREATE TABLE profiles AS SELECT * FROM (VALUES ('C1'), ('C2'), ('C9')) AS t(customer_id)")
    wide = con.execute(wide_consent_sql(result.table, PURPOSES, "profiles") + " ORDER BY 1").df()
    assert list(wide.columns) == ["customer_id"] + [f"consent_{p}" for p in PURPOSES]
    assert wide["consent_email_marketing"].tolist() == [True, False, False]
    assert not wide[["consent_sms_marketing", "consent_ad_targeting", "consent_analytics"]].any().any()
    only = con.execute(wide_consent_sql(result.table, PURPOSES)).df()
    assert sorted(only["customer_id"]) == ["C1", "C2"]


def test_no_statements_at_all(con):
    ledger = build_consent_ledger(con, [], PURPOSES)
    assert ledger.rows == 0
    result = effective_consent(con, ledger, "identifier_customers", PURPOSES)
    assert result.rows == 0 and result.unmatched_statements == 0


def test_bad_purpose_name_is_a_config_error(con):
    ledger = build_consent_ledger(con, [], PURPOSES)
    with pytest.raises(ValueError, match="purposes"):
        effective_consent(con, ledger, "identifier_customers", ["email marketing; drop"])


def test_random_sequences_match_a_plain_reference(con, tmp_path):
    """Many statements with frequent timestamp ties, checked against a direct reading of the rule."""
    import random

    rng = random.Random(7)
    people = {
        "C1": [("email", "ann@example.com"), ("phone", "+14155550101"), ("stripe_customer", "cus_Ann1")],
        "C2": [("email", "bob@example.com")],
        "C3": [("email", "cy@example.com")],
    }
    rows, expected_input = [], []
    for n in range(400):
        customer = rng.choice(list(people))
        id_type, identifier = rng.choice(people[customer])
        purpose = rng.choice(PURPOSES)
        granted = rng.random() < 0.5
        at = pd.Timestamp("2025-01-01T00:00:00Z") + pd.Timedelta(minutes=rng.randrange(30))
        rows.append(
            _stmt(
                id_type, identifier, purpose, granted, at.isoformat(), rng.choice(["form", "survey"]), f"r{n}"
            )
        )
        expected_input.append((customer, purpose, granted, at))
    ledger = build_consent_ledger(con, [_landed(con, tmp_path, rows)], PURPOSES)
    result = effective_consent(con, ledger, "identifier_customers", PURPOSES)
    got = {k: v[0] for k, v in _decisions(con, result.table).items()}
    expected: dict[tuple[str, str], bool] = {}
    for customer, purpose in {(c, p) for c, p, _, _ in expected_input}:
        mine = [(at, g) for c, p, g, at in expected_input if (c, p) == (customer, purpose)]
        latest = max(at for at, _ in mine)
        expected[(customer, purpose)] = all(g for at, g in mine if at == latest)
    assert got == expected
