"""Stripe-derived profile traits: deleted customers, name splitting, refunds seen twice, currencies."""

import json

import pandas as pd
import pytest

from uds_pipelines.lib import catalog
from uds_pipelines.lib.ingest.stripe_files import land_stripe_files
from uds_pipelines.lib.staging.stripe import build_stripe_staging
from uds_pipelines_tests.catalog_columns import CUSTOMER_COLUMNS, FORM_COLUMNS, RESPONSE_COLUMNS
from uds_pipelines_tests.lib.profiles.helpers import build, columns, identity_map, write


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def charge(charge_id: str, customer_id: str, amount: int, currency: str = "usd", **extra) -> dict:
    return {"charge_id": charge_id, "customer_id": customer_id, "amount": amount, "amount_refunded": 0,
            "currency": currency, "status": "succeeded", "paid": True, "created": ts("2026-03-01")} | extra  # fmt: skip


def subscription(
    sub_id: str, customer_id: str, status: str, mrr_minor: int, created: str, currency="usd"
) -> dict:
    return {"subscription_id": sub_id, "customer_id": customer_id, "status": status, "currency": currency,
            "mrr_minor": mrr_minor, "created": ts(created)}  # fmt: skip


@pytest.fixture
def deleted_lake(tmp_path):
    """uds_1: an old, deleted Stripe customer (updated most recently, by its deletion) and a live one;
    uds_2: only a deleted customer."""
    lake_dir = tmp_path / "lake"
    write(lake_dir, "staging/stripe_customers.parquet", [
        {"customer_id": "cus_old", "email": "old@example.com", "name": "Old Name", "phone": "+14155550101",
         "country": "DE", "created": ts("2025-01-01"), "updated_at": ts("2026-06-01"), "deleted": True,
         "deleted_at": ts("2026-06-01")},
        {"customer_id": "cus_new", "email": "new@example.com", "name": "New Person", "country": "GB",
         "created": ts("2025-06-01"), "updated_at": ts("2025-06-01"), "deleted": False},
        {"customer_id": "cus_solo", "email": "solo@example.com", "name": "Solo Person", "created": ts("2025-02-01"),
         "updated_at": ts("2026-02-01"), "deleted": True, "deleted_at": ts("2026-02-01")},
    ], CUSTOMER_COLUMNS)  # fmt: skip
    write(lake_dir, "staging/stripe_charges.parquet", [
        charge("ch_old", "cus_old", 1000), charge("ch_new", "cus_new", 500), charge("ch_solo", "cus_solo", 700),
    ], columns("stripe_charges"))  # fmt: skip
    write(lake_dir, "staging/stripe_subscriptions.parquet", [
        # the deleted customer's subscription is newer and still says active in our data
        subscription("sub_old", "cus_old", "active", 2000, "2026-01-01"),
        subscription("sub_new", "cus_new", "active", 900, "2025-07-01"),
        subscription("sub_solo", "cus_solo", "active", 1500, "2025-03-01"),
    ], columns("stripe_subscriptions"))  # fmt: skip
    identity_map(lake_dir, {
        "uds_1": [("stripe", "cus_old"), ("stripe", "cus_new")], "uds_2": [("stripe", "cus_solo")],
    })  # fmt: skip
    return lake_dir


def test_deleted_customer_keeps_its_money_but_not_its_contact_data_or_subscriptions(deleted_lake):
    profiles, _ = build(deleted_lake)
    person = profiles.loc["uds_1"]
    # contact data from the live customer, although the deleted one changed last
    assert (person["email"], person["first_name"], person["last_name"], person["country"]) == (
        "new@example.com", "New", "Person", "GB",
    )  # fmt: skip
    # only the deleted customer has a phone: survivorship falls back to it
    assert person["phone"] == "+14155550101"
    # the deleted customer's money stays with the person
    assert person["lifetime_value"] == 15.0 and person["orders_count"] == 2
    # its subscription is canceled with it; the live one's status and MRR remain
    assert person["subscription_status"] == "active" and person["mrr"] == 9.0
    # first seen: the oldest customer's creation, not its latest update
    assert person["first_seen_at"] == ts("2025-01-01") and person["last_seen_at"] == ts("2026-06-01")


def test_a_person_with_only_a_deleted_customer_keeps_its_data_and_money_without_a_live_subscription(
    deleted_lake,
):
    profiles, _ = build(deleted_lake)
    solo = profiles.loc["uds_2"]
    assert (solo["email"], solo["first_name"], solo["last_name"]) == ("solo@example.com", "Solo", "Person")
    assert solo["lifetime_value"] == 7.0 and solo["orders_count"] == 1
    assert solo["subscription_status"] == "canceled" and solo["mrr"] == 0.0


def test_other_sources_win_over_a_deleted_customer(tmp_path):
    lake_dir = tmp_path / "lake"
    write(lake_dir, "staging/stripe_customers.parquet", [
        {"customer_id": "cus_gone", "email": "gone@example.com", "name": "Gone Name", "country": "DE",
         "created": ts("2026-04-01"), "updated_at": ts("2026-05-01"), "deleted": True},
    ], CUSTOMER_COLUMNS)  # fmt: skip
    write(lake_dir, "landed/forms/forms-a.parquet", [
        {"submission_id": "f1", "email": "form@example.com", "first_name": "Form", "last_name": "Person",
         "submitted_at": ts("2025-01-01")},
    ], FORM_COLUMNS)  # fmt: skip
    identity_map(lake_dir, {"uds_1": [("stripe", "cus_gone"), ("form", "f1")]})
    person = build(lake_dir)[0].loc["uds_1"]
    assert (person["email"], person["first_name"], person["last_name"]) == (
        "form@example.com",
        "Form",
        "Person",
    )
    assert person["country"] == "DE"  # nothing else has a country


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
        ("Doe, Jane", "Jane", "Doe"),
        ("Cher", "Cher", None),
    ],
)
def test_stripe_full_names_split_by_the_name_normalizer(tmp_path, full, first, last):
    lake_dir = tmp_path / "lake"
    write(lake_dir, "staging/stripe_customers.parquet",
          [{"customer_id": "cus_1", "email": "a@example.com", "name": full, "created": ts("2026-01-01")}],
          CUSTOMER_COLUMNS)  # fmt: skip
    identity_map(lake_dir, {"uds_1": [("stripe", "cus_1")]})
    profiles, con = build(lake_dir)
    assert con.execute("SELECT first_name, last_name FROM records").fetchone() == (first, last)
    person = profiles.loc["uds_1"]
    assert person["first_name"] == first
    assert (None if pd.isna(person["last_name"]) else person["last_name"]) == last


def _event(event_id: str, type_: str, created: int, obj: dict) -> dict:
    return {"id": event_id, "object": "event", "created": created, "type": type_, "livemode": False,
            "api_version": "2024-06-20", "data": {"object": obj}}  # fmt: skip


def _charge_obj(charge_id: str, amount: int, refunded: int = 0, refunds: list | None = None) -> dict:
    obj = {"id": charge_id, "object": "charge", "customer": "cus_1", "amount": amount, "amount_refunded": refunded,
           "currency": "usd", "status": "succeeded", "paid": True, "refunded": refunded == amount,
           "created": 1_770_000_000, "invoice": None}  # fmt: skip
    if refunds is not None:
        obj["refunds"] = {"object": "list", "data": refunds, "has_more": False, "total_count": len(refunds)}
    return obj


def _refund_obj(refund_id: str, charge_id: str, amount: int, status: str = "succeeded") -> dict:
    return {"id": refund_id, "object": "refund", "charge": charge_id, "amount": amount, "currency": "usd",
            "status": status, "created": 1_770_100_000}  # fmt: skip


def test_each_refund_is_subtracted_once_however_it_arrives(tmp_path):
    """Landed events through staging into profiles: a refund on the charge and as its own object,
    several refund objects against a charge whose state predates them, a refund only on the charge,
    a failed refund, and a refund of a charge known only through the invoice it paid."""
    t = 1_770_000_000
    re_a = _refund_obj("re_a", "ch_a", 300)
    events = [
        _event("evt_cus", "customer.created", t, {"id": "cus_1", "object": "customer", "email": "a@example.com",
                                                  "created": t}),
        # ch_a: 300 refunded, seen on the charge (with the embedded refund) and as refund events
        _event("evt_a1", "charge.succeeded", t, _charge_obj("ch_a", 1000)),
        _event("evt_a2", "charge.refunded", t + 10, _charge_obj("ch_a", 1000, 300, [re_a])),
        _event("evt_a3", "refund.created", t + 10, re_a),
        _event("evt_a4", "refund.updated", t + 20, re_a),
        # ch_b: the charge state knows no refund; two refund objects (100 + 200) and a failed one
        _event("evt_b1", "charge.succeeded", t, _charge_obj("ch_b", 1000)),
        _event("evt_b2", "refund.created", t + 10, _refund_obj("re_b1", "ch_b", 100)),
        _event("evt_b3", "refund.created", t + 11, _refund_obj("re_b2", "ch_b", 200)),
        _event("evt_b4", "refund.created", t + 12, _refund_obj("re_b3", "ch_b", 500, "failed")),
        # ch_c: refunded 400 according to the charge only
        _event("evt_c1", "charge.succeeded", t, _charge_obj("ch_c", 1000)),
        _event("evt_c2", "charge.refunded", t + 10, _charge_obj("ch_c", 1000, 400)),
        # in_d: paid by ch_d, whose charge events we never received; 500 of it refunded
        _event("evt_d1", "invoice.paid", t, {"id": "in_d", "object": "invoice", "customer": "cus_1",
                                             "charge": "ch_d", "amount_paid": 2000, "currency": "usd",
                                             "status": "paid", "created": t}),
        _event("evt_d2", "refund.created", t + 10, _refund_obj("re_d", "ch_d", 500)),
    ]  # fmt: skip
    inbox = tmp_path / "inbox" / "events.jsonl"
    inbox.parent.mkdir(parents=True)
    inbox.write_text("".join(json.dumps(e) + "\n" for e in events))
    lake_dir = tmp_path / "lake"
    assert land_stripe_files([inbox], lake_dir).records_quarantined == 0
    build_stripe_staging(lake_dir)
    identity_map(lake_dir, {"uds_1": [("stripe", "cus_1")]})
    person = build(lake_dir)[0].loc["uds_1"]
    # (1000 - 300) + (1000 - 300) + (1000 - 400) + (2000 - 500)
    assert person["lifetime_value"] == 35.0
    assert person["orders_count"] == 4


def test_refund_objects_never_exceed_the_charge(tmp_path):
    lake_dir = tmp_path / "lake"
    write(lake_dir, "staging/stripe_customers.parquet",
          [{"customer_id": "cus_1", "created": ts("2026-01-01")}], CUSTOMER_COLUMNS)  # fmt: skip
    write(
        lake_dir,
        "staging/stripe_charges.parquet",
        [charge("ch_1", "cus_1", 1000, amount_refunded=1000)],
        columns("stripe_charges"),
    )
    write(lake_dir, "staging/stripe_refunds.parquet", [
        {"refund_id": "re_1", "charge_id": "ch_1", "amount": 1000, "currency": "usd", "status": "succeeded",
         "created": ts("2026-03-02")},
        {"refund_id": "re_2", "charge_id": "ch_1", "amount": 1000, "currency": "usd", "status": "pending",
         "created": ts("2026-03-03")},
    ])  # fmt: skip
    identity_map(lake_dir, {"uds_1": [("stripe", "cus_1")]})
    assert build(lake_dir)[0].loc["uds_1", "lifetime_value"] == 0.0


def test_mrr_follows_the_lifetime_value_currency(tmp_path):
    lake_dir = tmp_path / "lake"
    write(lake_dir, "staging/stripe_customers.parquet", [
        {"customer_id": "cus_us", "email": "a@example.com", "created": ts("2026-01-01")},
        {"customer_id": "cus_eu", "email": "a@example.com", "created": ts("2026-01-01")},
        {"customer_id": "cus_trial", "email": "t@example.com", "created": ts("2026-01-01")},
    ], CUSTOMER_COLUMNS)  # fmt: skip
    write(lake_dir, "staging/stripe_charges.parquet", [
        charge("ch_1", "cus_us", 5000, "usd"), charge("ch_2", "cus_eu", 1000, "eur"),
    ], columns("stripe_charges"))  # fmt: skip
    write(lake_dir, "staging/stripe_subscriptions.parquet", [
        subscription("sub_1", "cus_us", "active", 1000, "2026-01-02", "usd"),
        subscription("sub_2", "cus_eu", "active", 3000, "2026-01-02", "eur"),
        subscription("sub_3", "cus_eu", "past_due", 500, "2026-01-03", "eur"),
        # no orders: the profile takes the currency of the larger MRR; zero-decimal yen is not divided
        subscription("sub_4", "cus_trial", "trialing", 800, "2026-01-02", "usd"),
        subscription("sub_5", "cus_trial", "trialing", 2000, "2026-01-02", "jpy"),
    ])  # fmt: skip
    identity_map(lake_dir, {
        "uds_1": [("stripe", "cus_us"), ("stripe", "cus_eu")], "uds_2": [("stripe", "cus_trial")],
    })  # fmt: skip
    profiles = build(lake_dir)[0]
    person = profiles.loc["uds_1"]
    # usd has the larger net total, so lifetime value and MRR are in usd; eur is kept beside them
    assert (person["currency"], person["lifetime_value"], person["mrr"]) == ("usd", 50.0, 10.0)
    assert json.loads(person["mrr_by_currency"]) == {"eur": 35.0, "usd": 10.0}
    trial = profiles.loc["uds_2"]
    assert (trial["currency"], trial["lifetime_value"], trial["mrr"]) == ("jpy", 0.0, 2000.0)
    assert json.loads(trial["mrr_by_currency"]) == {"jpy": 2000.0, "usd": 8.0}


def test_first_signup_is_the_earliest_form_or_survey(tmp_path):
    lake_dir = tmp_path / "lake"
    write(lake_dir, "staging/stripe_customers.parquet",
          [{"customer_id": "cus_1", "created": ts("2024-01-01"), "updated_at": ts("2026-01-01")}],
          CUSTOMER_COLUMNS)  # fmt: skip
    write(lake_dir, "landed/forms/forms-a.parquet", [
        {"submission_id": "f1", "submitted_at": ts("2025-05-01")},
        {"submission_id": "f2", "submitted_at": ts("2025-03-01")},
    ], FORM_COLUMNS)  # fmt: skip
    write(
        lake_dir,
        catalog.table("landed_survey_responses").path + "/r.parquet",
        [{"response_id": "r1", "submitted_at": ts("2025-04-01"), "nps": 9}],
        RESPONSE_COLUMNS,
    )
    identity_map(lake_dir, {
        "uds_1": [("stripe", "cus_1"), ("form", "f1"), ("form", "f2"), ("survey", "r1")], "uds_2": [],
    })  # fmt: skip
    person = build(lake_dir)[0].loc["uds_1"]
    assert person["first_signup_at"] == ts("2025-03-01")
    assert person["first_seen_at"] == ts("2024-01-01") and person["last_seen_at"] == ts("2026-01-01")
    assert (person["forms_count"], person["surveys_count"], person["nps_latest"]) == (2, 1, 9)
