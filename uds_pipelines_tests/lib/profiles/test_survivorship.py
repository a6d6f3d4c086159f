"""Survivorship per attribute: the value most records agree on, ties by source priority then recency."""

import pandas as pd

from uds_pipelines_tests.catalog_columns import CUSTOMER_COLUMNS, FORM_COLUMNS
from uds_pipelines_tests.lib.profiles.helpers import build, identity_map, write


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def customer(customer_id: str, name: str, email: str, updated: str, **extra) -> dict:
    return {"customer_id": customer_id, "name": name, "email": email, "created": ts("2026-01-01"),
            "updated_at": ts(updated), "deleted": False} | extra  # fmt: skip


def form(submission_id: str, first: str, last: str, email: str, submitted: str, **extra) -> dict:
    return {"submission_id": submission_id, "first_name": first, "last_name": last, "email": email,
            "submitted_at": ts(submitted)} | extra  # fmt: skip


def profiles_of(tmp_path, customers: list[dict], forms: list[dict]) -> pd.DataFrame:
    """One person holding every record given."""
    lake_dir = tmp_path / "lake"
    write(lake_dir, "staging/stripe_customers.parquet", customers, CUSTOMER_COLUMNS)
    write(lake_dir, "landed/forms/forms-a.parquet", forms, FORM_COLUMNS)
    records = [("stripe", c["customer_id"]) for c in customers] + [("form", f["submission_id"]) for f in forms]
    identity_map(lake_dir, {"uds_1": records})
    profiles, con = build(lake_dir)
    con.close()
    return profiles


def test_two_forms_spelling_a_name_alike_outvote_a_misspelled_stripe_name(tmp_path):
    profiles = profiles_of(
        tmp_path,
        [customer("cus_1", "Emiyl Tayolr", "emily@example.com", "2026-06-01")],
        [form("s1", "Emily", "Taylor", "emily@example.com", "2026-02-01"),
         form("s2", "emily", "TAYLOR", "emily@example.com", "2026-03-01")],
    )  # fmt: skip
    assert profiles.loc["uds_1", ["first_name", "last_name"]].tolist() == ["Emily", "Taylor"]


def test_a_tie_goes_to_the_higher_priority_source_then_the_newer_record(tmp_path):
    tie = profiles_of(
        tmp_path / "a",
        [customer("cus_1", "Ann Lee", "ann@example.com", "2026-01-01")],
        [form("s1", "Anne", "Leigh", "anne@example.com", "2026-09-01")],
    )
    assert tie.loc["uds_1", ["first_name", "last_name", "email"]].tolist() == ["Ann", "Lee", "ann@example.com"]
    forms_only = profiles_of(
        tmp_path / "b",
        [],
        [form("s1", "Anne", "Leigh", "old@example.com", "2026-01-01"),
         form("s2", "Ann", "Lee", "new@example.com", "2026-09-01")],
    )  # fmt: skip
    assert forms_only.loc["uds_1", ["first_name", "email"]].tolist() == ["Ann", "new@example.com"]


def test_votes_ignore_case_and_accents_and_each_attribute_votes_on_its_own(tmp_path):
    profiles = profiles_of(
        tmp_path,
        [customer("cus_1", "Jose Garcya", "jose@example.com", "2026-06-01", country="ES")],
        [form("s1", "JOSÉ", "GARCÍA", "pepe@example.com", "2026-02-01", country="ES"),
         form("s2", "José", "García", "pepe@example.com", "2026-03-01", country="FR")],
    )  # fmt: skip
    row = profiles.loc["uds_1"]
    # the agreeing pair wins; its display form is the newest of the two spellings
    assert [row.first_name, row.last_name] == ["José", "García"]
    assert row.email == "pepe@example.com"  # two records against one
    assert row.country == "ES"  # Stripe and one form against one form


def test_a_deleted_customer_has_no_vote(tmp_path):
    profiles = profiles_of(
        tmp_path,
        [customer("cus_old", "Bob Stone", "bob@example.com", "2026-01-01", deleted=True),
         customer("cus_old2", "Bob Stone", "bob@example.com", "2026-01-02", deleted=True)],
        [form("s1", "Robert", "Stone", "robert@example.com", "2026-02-01")],
    )  # fmt: skip
    assert profiles.loc["uds_1", ["first_name", "email"]].tolist() == ["Robert", "robert@example.com"]
