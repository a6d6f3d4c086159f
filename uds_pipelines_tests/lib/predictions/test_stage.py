"""The predictions stage over a hand-built lake: per-currency fits, holdout, subscribers, profile
columns, reproducibility for a fixed as-of, the segments that use them, and the too-short warning."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from uds_pipelines.lib import connection
from uds_pipelines.lib.predictions.stage import build_predictions
from uds_pipelines.lib.predictions.traits import PROFILE_COLUMNS
from uds_pipelines.lib.profiles.stage import build_profiles
from uds_pipelines.lib.segments.definitions import load_segments, segment_select
from uds_pipelines_tests.lib.predictions.lake import build_lake, read


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    settings = build_lake(tmp_path_factory.mktemp("predictions"))
    stage = build_predictions(settings)
    build_profiles(settings)
    return settings, stage


def test_buyers_are_fitted_checked_on_a_holdout_and_scored(built):
    settings, stage = built
    (usd,) = stage.currencies
    assert usd.currency == "usd" and usd.scored and usd.spend is not None
    assert usd.purchase.model in ("bgnbd", "pareto_nbd") and usd.rejected
    holdout = usd.holdout
    assert holdout is not None and holdout.customers > 0
    assert holdout.table["customers"].sum() == holdout.customers
    assert abs(holdout.aggregate_error) < 0.2 and not stage.warnings
    predictions = read(settings, "customer_predictions")
    buyers = predictions[predictions["currency"] == "usd"]
    assert len(buyers) == usd.customers == 300
    assert buyers["p_alive"].between(0, 1).all() and (buyers["expected_purchases_90d"] >= 0).all()
    assert (buyers["predicted_clv_12m"] > 0).all()
    # a buyer who stopped long ago is less likely alive than one who bought recently at the same frequency
    repeat = buyers[buyers["frequency"] >= 3]
    recent, lapsed = repeat.nlargest(10, "recency_weeks"), repeat.nsmallest(10, "recency_weeks")
    assert recent["p_alive"].mean() > lapsed["p_alive"].mean()


def test_subscribers_get_retention_figures(built):
    settings, stage = built
    assert stage.subscribers.fit is not None and stage.subscribers.fit.ok
    predictions = read(settings, "customer_predictions")
    subs = predictions[predictions["model"] == "sbg"]
    assert len(subs) == stage.subscribers.live_subscribers == 40
    assert (subs["currency"] == "eur").all() and subs["churn_next_month"].between(0, 1).all()
    assert np.allclose(subs["p_alive"], 1 - subs["churn_next_month"])
    # twelve months of MRR at most, discounted and weighted by survival
    assert ((subs["predicted_clv_12m"] > 0) & (subs["predicted_clv_12m"] < 12 * subs["mrr"])).all()
    # reporting currency: EUR converts at the bundled rate
    assert subs["predicted_clv_12m_reporting"].notna().all()


def test_profiles_carry_the_predicted_columns_and_risk_bands(built):
    settings, stage = built
    profiles = read(settings, "customer_profiles")
    assert list(profiles.columns[-len(PROFILE_COLUMNS) :]) == list(PROFILE_COLUMNS)
    predicted = profiles[profiles["p_alive"].notna()]
    assert len(predicted) == 340
    assert set(predicted["churn_risk"]) <= {"low", "medium", "high"}
    assert (predicted["model_version"] == stage.model_version).all()
    buyers = predicted[predicted["customer_id"].str.startswith("uds_b")]
    lost = 1 - buyers["p_alive"]
    assert (buyers.loc[lost >= 0.5, "churn_risk"] == "high").all()
    assert (buyers.loc[lost < 0.25, "churn_risk"] == "low").all()


def test_same_as_of_gives_the_same_predictions(built):
    settings, stage = built
    first = read(settings, "customer_predictions")
    # fitted again, not scored with the stored models: the fit itself must be reproducible
    again = build_predictions(replace(settings, predictions_refit_days=0))
    second = read(settings, "customer_predictions")
    assert again.refit_reason is not None and again.model_version == stage.model_version
    numeric = first.select_dtypes("number").columns
    pd.testing.assert_frame_equal(first.drop(columns=numeric), second.drop(columns=numeric))
    assert np.allclose(first[numeric], second[numeric], rtol=1e-9, equal_nan=True)


def test_prediction_segments_evaluate_on_the_profiles(built):
    settings, _ = built
    segments, errors = load_segments(settings.segments_file)
    assert not errors
    wanted = {s.name: s for s in segments if s.name in ("likely_to_churn", "high_predicted_value")}
    assert set(wanted) == {"likely_to_churn", "high_predicted_value"}
    con = connection.for_settings(settings)
    try:
        members = {name: {r[0] for r in con.execute(segment_select(s, "customer_profiles"),
                                                       [settings.as_of()]).fetchall()}
                   for name, s in wanted.items()}  # fmt: skip
        high = {
            r[0]
            for r in con.execute(
                "SELECT customer_id FROM customer_profiles WHERE churn_risk = 'high'"
            ).fetchall()
        }
    finally:
        con.close()
    assert members["likely_to_churn"] == high and high
    assert members["high_predicted_value"]


def test_too_short_a_history_leaves_the_columns_null_with_a_warning(tmp_path):
    settings = build_lake(tmp_path, buyers=30, subscribers=5)
    stage = build_predictions(settings)
    assert not stage.currencies[0].scored and stage.model_version is None
    assert any("USD: no predicted columns: too few buyers" in w for w in stage.warnings)
    assert any("subscribers: no predicted columns" in w for w in stage.warnings)
    assert stage.rows == 0
    build_profiles(settings)
    profiles = read(settings, "customer_profiles")
    assert len(profiles) == 35 and profiles[list(PROFILE_COLUMNS)].isna().all().all()


def test_every_fit_runs_with_blas_on_one_thread(tmp_path, monkeypatch):
    """OpenBLAS's threads spin between the optimizers' tiny BLAS calls: under a concurrent step
    they tripled the stage's CPU. Every fit of the stage must see one BLAS thread."""
    from threadpoolctl import threadpool_info

    from uds_pipelines.lib.predictions import fitting

    seen: list[set[int]] = []
    original = fitting.minimize

    def recording(*args, **kwargs):
        seen.append({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})
        return original(*args, **kwargs)

    def blas_threads() -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    monkeypatch.setattr(fitting, "minimize", recording)
    before = blas_threads()
    build_predictions(build_lake(tmp_path))
    assert seen and all(threads == {1} for threads in seen), seen
    assert blas_threads() == before  # the limit ends with the stage
