"""KPIs over a hand-built profiles table: every figure worked out by hand."""

from datetime import datetime, timezone

import pandas as pd
import pytest

from uds_pipelines.lib import lake
from uds_pipelines.lib.profiles.kpis import bar_chart_markdown, kpis, new_buyers_by_month

AS_OF = datetime(2026, 11, 15, tzinfo=timezone.utc)


def ts(text: str | None):
    return pd.Timestamp(text, tz="UTC") if text else pd.NaT


@pytest.fixture
def lake_dir(tmp_path):
    rows = [
        # customer, orders, first order, last order, ltv, surveys+forms, first seen, nps
        ("c1", 3, "2026-11-02", "2026-11-10", 300.0, 1, "2026-10-01", 10),  # active 30d, converted, promoter
        ("c2", 1, "2026-09-20", "2026-09-20", 50.0, 0, "2026-09-20", 6),  # active 90d only, detractor
        ("c3", 2, "2025-01-05", "2025-06-01", 100.0, 1, "2025-03-01", None),  # churned; paid before signing up
        ("c4", 0, None, None, 0.0, 1, "2026-10-10", 8),  # signed up, never paid, passive
    ]
    frame = pd.DataFrame(
        [
            {
                "customer_id": c, "orders_count": o, "first_order_at": ts(f), "last_order_at": ts(last),
                "lifetime_value": ltv, "surveys_count": sf, "forms_count": 0, "first_seen_at": ts(seen),
                "nps_latest": nps,
            }
            for c, o, f, last, ltv, sf, seen, nps in rows
        ]
    )  # fmt: skip
    frame["nps_latest"] = frame["nps_latest"].astype("Int64")
    lake.write_parquet_atomic(frame, tmp_path / lake.PROFILES)
    return tmp_path


def test_kpis_match_hand_computed_figures(lake_dir):
    figures = kpis(lake.duckdb_connection(), lake_dir, AS_OF)
    assert figures == {
        "customers": 4,
        "active_customers_30d": 1,
        "active_customers_90d": 2,
        "buyers": 3,
        "churn_rate": round(1 / 3, 4),
        "conversion_rate": round(1 / 3, 4),  # c1 of c1, c3, c4 (c3 paid before signing up)
        "average_ltv": 150.0,
        "median_ltv": 100.0,
        "nps": 0.0,  # one promoter, one detractor, one passive
        "nps_respondents": 3,
    }


def test_new_buyers_by_month_covers_every_month_and_charts_proportionally(lake_dir):
    curve = new_buyers_by_month(lake.duckdb_connection(), lake_dir, AS_OF, months=3)
    assert curve == [("2026-09", 1), ("2026-10", 0), ("2026-11", 1)]
    chart = bar_chart_markdown(curve, "new buyers", width=10).splitlines()
    assert chart[2] == "| 2026-09 | 1 | ██████████ |" and chart[3] == "| 2026-10 | 0 |  |"
    assert bar_chart_markdown([], "new buyers") == "No new buyers yet."


def test_kpis_before_any_profile(tmp_path):
    assert kpis(lake.duckdb_connection(), tmp_path, AS_OF) == {"customers": 0}
    assert new_buyers_by_month(lake.duckdb_connection(), tmp_path, AS_OF) == []
