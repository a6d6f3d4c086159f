"""Gamma-Gamma spend model (Fader, Hardie and Lee 2005, "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis", and Fader and Hardie's note "The Gamma-Gamma Model of Monetary Value"):
each purchase's value is gamma(p, nu), and nu is gamma(q, gamma) across customers.

Fitted on repeat buyers (x > 0) with `m` their mean repeat-purchase value; spend is assumed
independent of the purchase process (the stage reports the correlation as a check)."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from uds_pipelines.lib.predictions.fitting import Fit, by_value, compress, fit_mle, sample_rows, weighted_mean

NAMES = ("p", "q", "v")
# in units of the mean spend (`fit`)
STARTS = ((1.0, 1.0, 1.0), (5.0, 3.0, 2.0), (2.0, 5.0, 4.0))


def loglik(params, x, m) -> np.ndarray:
    """Per-customer log density of the mean spend `m` over `x` purchases (the note's eq. 3)."""
    return _loglik(params, *by_value(x), m)


def _loglik(params, xs, index, m) -> np.ndarray:
    p, q, v = params
    pxs = p * xs
    # the gamma functions depend on x alone: once per distinct x
    head = (gammaln(pxs + q) - gammaln(pxs) - gammaln(q) + q * np.log(v) + pxs * np.log(xs))[index]
    px = pxs[index]
    return head + (px - 1) * np.log(m) - (px + q) * np.log(v + xs[index] * m)


def _mean_negloglik(x, m):
    rows, counts, _ = compress(x, m)
    xs, index = by_value(rows[:, 0])
    um = rows[:, 1]
    return lambda prm: -weighted_mean(counts, _loglik(prm, xs, index, um))


def fit(x, m) -> Fit:
    """Fit on the customers with x > 0 and m > 0 (the caller selects them)."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    # fitted in units of the mean spend: v is a scale in currency units, and a currency with a
    # small unit (JPY) would otherwise put it past the box that flags degenerate fits
    unit = float(m.mean()) if len(m) else 1.0
    m = m / unit
    chosen = sample_rows(len(x))
    sample = None if chosen is None else _mean_negloglik(x[chosen], m[chosen])
    result = fit_mle("gamma_gamma", NAMES, _mean_negloglik(x, m), STARTS, len(x), sample)
    result.params["v"] *= unit
    result.loglik -= len(x) * np.log(unit)  # the density of spend in currency units
    result.problems = [
        f"{p} (v in units of the mean spend, {unit:.4g})" if "v=" in p else p for p in result.problems
    ]
    if result.params["q"] <= 1:
        # the expected spend (p v / (q - 1)) is infinite for q <= 1
        result.problems.append(f"q = {result.params['q']:.3g} <= 1: the mean spend is unbounded")
    return result


def expected_spend(params, x, m) -> np.ndarray:
    """E[mean spend | x, m] (the note's eq. 5): a weighted mean of the population mean p v / (q - 1)
    and the customer's own mean; a customer without repeat purchases gets the population mean."""
    p, q, v = params
    x = np.asarray(x, dtype=float)
    m = np.where(x > 0, np.asarray(m, dtype=float), 0.0)
    return (p * (v + x * m)) / (p * x + q - 1)
