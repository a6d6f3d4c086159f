"""What a fit costs when the data do not suit a model: a likelihood that runs off to the edge of the
parameter box stops there (Pareto/NBD's terms grow slow past it), the model competition on many
buyers fits only the winner on everyone, and spend in a currency with a small unit fits as well as
in dollars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from uds_pipelines.lib.generator.purchase_process import BuyerParams, simulate_summary
from uds_pipelines.lib.predictions import buyers, fitting, gamma_gamma, pareto_nbd
from uds_pipelines_tests.lib.predictions.cdnow import published_summary


def buyers_dropping_out_alike(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Buyers over up to a year who all drop out after a purchase with about the same 10% chance
    (beta(100, 900)): no heterogeneity for the dropout mixing distributions to describe."""
    x, t_x, T, _m = simulate_summary(
        n, BuyerParams(r=2.0, alpha=40.0, a=100.0, b=900.0), 3, t_min=1.0, t_max=52.0
    )
    return x, np.round(t_x * 7) / 7, np.round(T * 7) / 7


def test_a_fit_running_off_to_the_edge_stops_there_and_is_degenerate():
    x, t_x, T = buyers_dropping_out_alike(600)
    fit = pareto_nbd.fit(x, t_x, T)
    assert max(fit.params.values()) <= fitting.PARAM_MAX * (1 + 1e-9)
    assert not fit.ok and any(p.startswith("degenerate parameters") for p in fit.problems)


def test_only_the_winning_model_is_fitted_on_every_buyer(monkeypatch):
    n = fitting.SAMPLE * 4
    x, t_x, T = buyers_dropping_out_alike(n)
    summary = pd.DataFrame({"frequency": x, "recency": t_x, "T": T})
    sizes: dict[str, list[int]] = {"bgnbd": [], "pareto_nbd": []}
    for model in (buyers.bgnbd, buyers.pareto_nbd):
        original = model._mean_negloglik

        def recording(x, t_x, T, original=original, name=model.__name__.rsplit(".", 1)[-1]):
            sizes[name].append(len(x))
            return original(x, t_x, T)

        monkeypatch.setattr(model, "_mean_negloglik", recording)
    fit, rejected, _problems = buyers.fit_purchases(summary)
    assert fit is not None and fit.model == "bgnbd" and fit.n == n
    assert [f.model for f in rejected] == ["pareto_nbd"]
    assert max(sizes["pareto_nbd"]) <= fitting.SAMPLE and max(sizes["bgnbd"]) == n


@pytest.mark.parametrize("unit", [1.0, 1000.0])
def test_spend_in_a_small_currency_unit_fits_the_same_model(realdata, unit):
    repeat = published_summary(realdata).query("x > 0")
    fit = gamma_gamma.fit(repeat["x"], repeat["zbar"] * unit)
    assert fit.ok, fit.problems
    assert fit.params["p"] == pytest.approx(6.25, rel=0.01)
    assert fit.params["q"] == pytest.approx(3.74, rel=0.01)
    assert fit.params["v"] == pytest.approx(15.44 * unit, rel=0.01)


def test_a_degenerate_spend_fit_names_the_unit_its_scale_was_fitted_in():
    """Every customer's purchases are gamma(0.5, 2,500) draws, the same scale for all: no spread
    across customers, so q and v run off (v first, as it is twice q here). The fit is degenerate,
    v is reported in currency units and the message names the unit its box edge was in."""
    rng = np.random.default_rng(5)
    x = rng.integers(1, 6, 2000).astype(float)
    m = np.array([rng.gamma(0.5, 2500.0, int(k)).mean() for k in x])
    fit = gamma_gamma.fit(x, m)
    assert not fit.ok
    assert fit.params["v"] / fit.params["q"] == pytest.approx(2500.0, rel=0.05)  # the common scale
    assert fit.problems == [
        f"degenerate parameters (at the edge of [0.0001, 10000]): v=1e+04 (v in units of the mean spend, {m.mean():.4g})"
    ]
