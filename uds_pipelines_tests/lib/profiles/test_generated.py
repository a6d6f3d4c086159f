"""Profiles built from generated data, through landing, staging and identity, against the ground truth.

Checked per true person whose records resolved to exactly one profile holding nothing else: survey
and form counts, and the first and last order (the person's landed `charge.succeeded` events).
The ground truth holds no NPS answers or UTM sources, so those traits are covered by hand-built tests.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from uds_pipelines.lib import catalog, connection
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.consent.stage import build_consent
from uds_pipelines.lib.identity.stage import build_inputs, resolve
from uds_pipelines.lib.profiles.stage import build_profiles
from uds_pipelines_tests.generated_lake import landed_generated_lake

PERSON_SOURCES = ("stripe_customer", "survey_response", "form_submission")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("generated_profiles")
    settings = landed_generated_lake(root, people=80, seed=23)
    build_inputs(settings)
    resolve(settings, run_id="test")
    build_consent(settings)
    build_profiles(settings)
    return root, settings.lake_dir


@pytest.fixture(scope="module")
def pure(built):
    """(person_id, customer_id) for people whose records all resolved to one profile that holds only them."""
    root, lake_dir = built
    records = pd.read_parquet(root / "ground_truth/records.parquet")
    records = records[records["source"].isin(PERSON_SOURCES) & (records["expected"] == "land")]
    id_map = pd.read_parquet(lake_dir / catalog.table("identity_map").path)
    known = records.dropna(subset=["record_id"]).merge(id_map, on="record_id")
    per_person = known.groupby("person_id")["customer_id"].agg(set)
    per_customer = known.groupby("customer_id")["person_id"].agg(set)
    held = id_map.groupby("customer_id").size()
    truth_records = records.groupby("person_id").size()
    pairs = []
    for person_id, customers in per_person.items():
        if len(customers) != 1:
            continue
        customer_id = next(iter(customers))
        # nothing of anyone else, and nothing unidentified (hashed ids) beyond this person's count
        if per_customer[customer_id] == {person_id} and held[customer_id] == truth_records[person_id]:
            pairs.append((person_id, customer_id))
    assert len(pairs) >= 30, "too few cleanly resolved people to say anything"
    return pd.DataFrame(pairs, columns=["person_id", "customer_id"]), records


def test_survey_and_form_counts_match_ground_truth(built, pure):
    _, lake_dir = built
    pairs, records = pure
    profiles = pd.read_parquet(lake_dir / catalog.table("customer_profiles").path).set_index("customer_id")
    counts = records.pivot_table(index="person_id", columns="source", aggfunc="size", fill_value=0)
    checked_surveys = checked_forms = 0
    for person_id, customer_id in pairs.itertuples(index=False):
        row = counts.loc[person_id]
        profile = profiles.loc[customer_id]
        assert profile["surveys_count"] == row.get("survey_response", 0), person_id
        assert profile["forms_count"] == row.get("form_submission", 0), person_id
        checked_surveys += int(row.get("survey_response", 0) > 0)
        checked_forms += int(row.get("form_submission", 0) > 0)
    assert checked_surveys >= 5 and checked_forms >= 5
    # signing up is what the conversion rate starts from
    signed_up = profiles.loc[pairs["customer_id"]]
    assert (
        signed_up["first_signup_at"].notna() == (signed_up["surveys_count"] + signed_up["forms_count"] > 0)
    ).all()


def test_first_and_last_order_match_ground_truth(built, pure):
    root, lake_dir = built
    pairs, _ = pure
    truth = pd.read_parquet(root / "ground_truth/records.parquet")
    events = truth[(truth["source"] == "stripe_event") & (truth["expected"] == "land")][
        ["record_id", "person_id"]
    ]
    con = connection.connect(lake_dir)
    con.register("truth_events", events)
    orders = (
        con.execute(
            """SELECT t.person_id, count(DISTINCT e.object_id) AS charges,
                   to_timestamp(min(json_extract_string(e.payload, '$.data.object.created')::BIGINT)) AS first_at,
                   to_timestamp(max(json_extract_string(e.payload, '$.data.object.created')::BIGINT)) AS last_at
            FROM landed_stripe e JOIN truth_events t ON t.record_id = e.event_id
            WHERE e.type = 'charge.succeeded' GROUP BY 1"""
        )
        .df()
        .set_index("person_id")
    )
    profiles = pd.read_parquet(lake_dir / catalog.table("customer_profiles").path).set_index("customer_id")
    checked = 0
    for person_id, customer_id in pairs.itertuples(index=False):
        profile = profiles.loc[customer_id]
        if person_id not in orders.index:
            assert profile["orders_count"] == 0 and pd.isna(profile["first_order_at"]), person_id
            continue
        expected = orders.loc[person_id]
        assert profile["orders_count"] == expected["charges"], person_id
        assert profile["first_order_at"] == expected["first_at"], person_id
        assert profile["last_order_at"] == expected["last_at"], person_id
        checked += 1
    assert checked >= 15


def test_profiles_over_person_records_from_an_older_version_read_the_catalog_defaults(built, tmp_path):
    """`deleted` and `created_at` came after the first release: an older file reads them as false
    and NULL (the catalog's `added`), so profiles build without rerunning identity first."""
    _, lake_dir = built
    old = tmp_path / "lake"
    (old / "identity").mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * EXCLUDE (deleted, created_at) FROM read_parquet('{lake_dir}/identity/person_records.parquet')) "
        f"TO '{old}/identity/person_records.parquet' (FORMAT parquet)"
    )
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{lake_dir}/identity/identity_map.parquet')) "
        f"TO '{old}/identity/identity_map.parquet' (FORMAT parquet)"
    )
    settings = Settings.from_env({"UDS_DATA_DIR": str(tmp_path)})
    views = connection.for_settings(settings)
    assert views.execute(
        "SELECT count(*) FILTER (WHERE deleted), count(created_at) FROM person_records"
    ).fetchone() == (0, 0)
    built_profiles = pd.read_parquet(lake_dir / catalog.table("customer_profiles").path)
    assert build_profiles(settings).rows == len(built_profiles)
