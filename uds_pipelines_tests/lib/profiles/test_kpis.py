"""KPIs over profiles built by the real profile SQL from a hand-built lake: every figure worked out by hand."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from uds_pipelines.lib import catalog, connection
from uds_pipelines.lib.profiles.kpis import Kpi, bar_chart_markdown, kpis, new_buyers_by_month
from uds_pipelines_tests.catalog_columns import CUSTOMER_COLUMNS, FORM_COLUMNS, RESPONSE_COLUMNS
from uds_pipelines_tests.lib.profiles.helpers import columns, identity_map, write, write_profiles

AS_OF = datetime(2026, 11, 15, tzinfo=UTC)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture
def lake_dir(tmp_path):
    """c1: survey, then pays twice (converted, active 30d, promoter).
    c2: pays, then answers a survey (signed up, not converted; active 90d only; detractor).
    c3: a Stripe customer since 2025-01-01 (updated much later) who paid before filling a form
        (not converted; churned).
    c4: form and survey, never paid (passive)."""
    lake_dir = tmp_path / "lake"
    write(lake_dir, "staging/stripe_customers.parquet", [
        {"customer_id": "cus_1", "created": ts("2026-10-05")},
        {"customer_id": "cus_2", "created": ts("2026-09-01")},
        {"customer_id": "cus_3", "created": ts("2025-01-01"), "updated_at": ts("2026-08-01")},
    ], CUSTOMER_COLUMNS)  # fmt: skip
    charges = [("cus_1", "2026-11-02", 10000), ("cus_1", "2026-11-10", 20000), ("cus_2", "2026-09-20", 5000),
               ("cus_3", "2025-01-05", 4000), ("cus_3", "2025-06-01", 6000)]  # fmt: skip
    write(lake_dir, "staging/stripe_charges.parquet", [
        {"charge_id": f"ch_{i}", "customer_id": cus, "amount": amount, "amount_refunded": 0, "currency": "usd",
         "status": "succeeded", "paid": True, "created": ts(at)}
        for i, (cus, at, amount) in enumerate(charges)
    ], columns("stripe_charges"))  # fmt: skip
    write(lake_dir, catalog.table("landed_survey_responses").path + "/r.parquet", [
        {"response_id": "r1", "submitted_at": ts("2026-10-01"), "nps": 10},
        {"response_id": "r2", "submitted_at": ts("2026-09-25"), "nps": 6},
        {"response_id": "r4", "submitted_at": ts("2026-10-12"), "nps": 8},
    ], RESPONSE_COLUMNS)  # fmt: skip
    write(lake_dir, catalog.table("landed_forms").path + "/forms-a.parquet", [
        {"submission_id": "f3", "submitted_at": ts("2025-03-01")},
        {"submission_id": "f4", "submitted_at": ts("2026-10-10")},
    ], FORM_COLUMNS)  # fmt: skip
    identity_map(lake_dir, {
        "c1": [("stripe", "cus_1"), ("survey", "r1")],
        "c2": [("stripe", "cus_2"), ("survey", "r2")],
        "c3": [("stripe", "cus_3"), ("form", "f3")],
        "c4": [("form", "f4"), ("survey", "r4")],
    })  # fmt: skip
    profiles = write_profiles(lake_dir)
    assert profiles.loc["c3", "first_seen_at"] == ts("2025-01-01")
    assert profiles.loc["c2", "first_signup_at"] == ts("2026-09-25")
    return lake_dir


def test_kpis_match_hand_computed_figures(lake_dir):
    figures = {(k.kpi, k.currency): k.value for k in kpis(connection.connect(lake_dir), lake_dir, AS_OF)}
    assert figures == {
        ("customers", None): 4,
        ("active_customers_30d", None): 1,
        ("active_customers_90d", None): 2,
        ("buyers", None): 3,
        ("churn_rate", None): round(1 / 3, 4),
        ("conversion_rate", None): 0.25,  # c1 of c1..c4: c2 and c3 paid before signing up, c4 never paid
        ("nps", None): 0.0,  # one promoter, one detractor, one passive
        ("nps_respondents", None): 3,
        # LTV 300, 50, 100 (all USD): per currency and, the same here, in the reporting currency
        ("buyers", "USD"): 3,
        ("total_ltv", "USD"): 450.0,
        ("average_ltv", "USD"): 150.0,
        ("median_ltv", "USD"): 100.0,
        ("buyers_reporting", "USD"): 3,
        ("total_ltv_reporting", "USD"): 450.0,
        ("average_ltv_reporting", "USD"): 150.0,
        ("median_ltv_reporting", "USD"): 100.0,
        ("buyers_without_fx_rate", "USD"): 0,
    }


def test_new_buyers_by_month_covers_every_month_and_charts_proportionally(lake_dir):
    curve = new_buyers_by_month(connection.connect(lake_dir), lake_dir, AS_OF, months=3)
    assert curve == [("2026-09", 1), ("2026-10", 0), ("2026-11", 1)]
    chart = bar_chart_markdown(curve, "new buyers", width=10).splitlines()
    assert chart[2] == "| 2026-09 | 1 | ██████████ |" and chart[3] == "| 2026-10 | 0 |  |"
    assert bar_chart_markdown([], "new buyers") == "No new buyers yet."


def test_kpis_before_any_profile(tmp_path):
    assert kpis(connection.connect(tmp_path), tmp_path, AS_OF) == [Kpi("customers", None, 0)]
    assert new_buyers_by_month(connection.connect(tmp_path), tmp_path, AS_OF) == []
