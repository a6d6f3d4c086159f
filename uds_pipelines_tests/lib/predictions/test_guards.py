"""The failure modes the models guard against: too few repeat buyers, degenerate parameters, no
convergence, no churn; and the holdout table, risk bands and model version."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from uds_pipelines.lib.predictions import bgnbd, holdout, sbg, traits
from uds_pipelines.lib.predictions.buyers import MIN_REPEAT_BUYERS, fit_currency
from uds_pipelines.lib.predictions.fitting import compress, fit_mle


def frame(x, t_x, T, m=None) -> pd.DataFrame:
    n = len(x)
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "currency": "usd", "frequency": x,
                         "recency": t_x, "T": T, "monetary_value": m if m is not None else np.zeros(n)})  # fmt: skip


def test_no_repeat_buyers_means_no_predictions_and_a_warning():
    models = fit_currency("usd", frame(np.zeros(500), np.zeros(500), np.linspace(5, 50, 500)))
    assert not models.scored and models.spend is None
    assert models.warnings == [
        f"USD: no predicted columns: too few buyers to fit: 500 customers, 0 repeat buyers (needs 50 and {MIN_REPEAT_BUYERS})"
    ]


def test_nobody_ever_dropping_out_is_degenerate_not_a_fit():
    # every buyer bought five times and again at the very end: the dropout rate runs off to zero
    T = np.linspace(20, 40, 60)
    fit = bgnbd.fit(np.full(60, 5.0), T.copy(), T)
    assert not fit.ok and any(p.startswith("degenerate parameters") for p in fit.problems)


def test_a_likelihood_that_is_nowhere_finite_is_reported():
    fit = fit_mle("broken", ("a",), lambda p: float("nan"), [(1.0,)], 10)
    assert not fit.ok and "non-finite likelihood at every start" in fit.problems


def test_retention_without_any_churn_is_refused():
    fit = sbg.fit(np.array([3.0, 4.0, 5.0]), np.array([False, False, False]))
    assert not fit.ok and "no subscriber has churned yet: the churn rate cannot be estimated" in fit.problems


def test_holdout_table_buckets_and_poor_fit_warning():
    frequency = np.array([0, 0, 1, 3, 7, 12])
    actual = np.array([0, 1, 1, 2, 5, 9])
    good = holdout.evaluate("bgnbd", "2025-01-01", 20.0, frequency, actual, actual * 1.05)
    assert list(good.table.index) == ["0", "1", "3", "7+"]
    assert good.table.loc["7+", "customers"] == 2 and good.table.loc["7+", "actual"] == 7.0
    assert good.aggregate_error == pytest.approx(0.05) and good.warning() is None
    poor = holdout.evaluate("bgnbd", "2025-01-01", 20.0, frequency, actual, actual * 1.5)
    assert poor.poor and "holdout error +50.0%" in poor.warning()
    assert "| 7+ | 2 | 7.000 | 10.500 |" in holdout.markdown(poor)


def test_churn_risk_bands_follow_the_documented_cut_offs():
    bands = traits.churn_risk(np.array([0.0, 0.2499, 0.25, 0.4999, 0.5, 1.0, np.nan]))
    assert list(bands) == ["low", "low", "medium", "medium", "high", "high", None]


def test_model_version_depends_on_the_parameters_only():
    one = traits.model_version({"bgnbd:usd": {"r": 0.243, "alpha": 4.414}})
    assert one == traits.model_version({"bgnbd:usd": {"r": 0.243000000001, "alpha": 4.414}})
    assert one != traits.model_version({"bgnbd:usd": {"r": 0.25, "alpha": 4.414}})
    assert one.startswith("bgnbd.v1-")


def test_compress_counts_distinct_rows_and_inverts():
    x, t = np.array([1.0, 0.0, 1.0, 1.0]), np.array([2.0, 0.0, 2.0, 3.0])
    rows, counts, inverse = compress(x, t)
    assert rows.tolist() == [[0.0, 0.0], [1.0, 2.0], [1.0, 3.0]] and counts.tolist() == [1, 2, 1]
    assert np.array_equal(rows[inverse], np.column_stack([x, t]))


def test_a_holdout_window_without_purchases_has_no_error_figure_but_a_warning():
    # (predicted - actual) / actual is undefined: Infinity would go into the asset's JSON metadata
    frequency, actual = np.array([0, 1, 2]), np.zeros(3)
    empty = holdout.evaluate("bgnbd", "2025-01-01", 20.0, frequency, actual, np.array([0.2, 0.5, 0.9]))
    assert empty.aggregate_error is None and empty.figures()["aggregate_error"] is None
    assert empty.poor and "no purchases in the holdout window" in empty.warning()
    assert "aggregate error n/a" in holdout.markdown(empty)
