"""Small customer_profiles Parquet files with the contract's columns, for segment and audience tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uds_pipelines.lib import lake

PURPOSES = ("email_marketing", "sms_marketing", "ad_targeting", "analytics")
AS_OF = pd.Timestamp("2026-01-31T00:00:00Z")

DEFAULTS: dict = {
    "email": None,
    "phone": None,
    "first_name": None,
    "last_name": None,
    "country": "US",
    "first_seen_at": pd.Timestamp("2024-01-01T00:00:00Z"),
    "last_seen_at": pd.Timestamp("2025-12-01T00:00:00Z"),
    "lifetime_value": 0.0,
    "currency": "usd",
    "orders_count": 0,
    "first_order_at": pd.NaT,
    "last_order_at": pd.NaT,
    "subscription_status": None,
    "mrr": 0.0,
    "nps_latest": None,
    "surveys_count": 0,
    "forms_count": 0,
    "acquisition_source": None,
    **{f"consent_{p}": False for p in PURPOSES},
    "cart_abandoned_at": pd.NaT,  # a computed trait of the shipped traits.yaml
    # predicted traits (CONTRACT section 8): NULL unless a row gives them
    "p_alive": float("nan"),
    "expected_purchases_90d": float("nan"),
    "predicted_clv_12m": float("nan"),
    "predicted_clv_12m_reporting": float("nan"),
    "churn_risk": None,
    "model_version": None,
}


def profiles_frame(rows: list[dict]) -> pd.DataFrame:
    """Profiles in USD, the reporting currency: `lifetime_value_reporting` is `lifetime_value`
    unless a row gives it."""
    rows = [
        {"lifetime_value_reporting": row.get("lifetime_value", DEFAULTS["lifetime_value"]), **row}
        for row in rows
    ]
    frame = pd.DataFrame([{**DEFAULTS, **row} for row in rows])
    for column in ("first_seen_at", "last_seen_at", "first_order_at", "last_order_at", "cart_abandoned_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["nps_latest"] = frame["nps_latest"].astype("Int64")
    frame["orders_count"] = frame["orders_count"].astype("int64")
    frame["lifetime_value"] = frame["lifetime_value"].astype("float64")
    frame["lifetime_value_reporting"] = frame["lifetime_value_reporting"].astype("float64")
    for column in ("email", "phone", "first_name", "last_name", "subscription_status", "acquisition_source",
                   "churn_risk", "model_version"):  # fmt: skip
        frame[column] = frame[column].astype("string")
    return frame


def write_profiles(path: Path, rows: list[dict]) -> str:
    """Write profiles and return the SQL relation reading them."""
    lake.write_parquet_atomic(profiles_frame(rows), path)
    return lake.files_relation([path])
