"""Gamma-Gamma spend model (Fader, Hardie and Lee 2005, "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis", and Fader and Hardie's note "The Gamma-Gamma Model of Monetary Value"):
each purchase's value is gamma(p, nu), and nu is gamma(q, gamma) across customers.

Fitted on repeat buyers (x > 0) with `m` their mean repeat-purchase value; spend is assumed
independent of the purchase process (the stage reports the correlation as a check)."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from uds_pipelines.lib.predictions.fitting import Fit, compress, fit_mle

NAMES = ("p", "q", "v")
STARTS = ((1.0, 1.0, 1.0), (5.0, 3.0, 15.0), (2.0, 5.0, 50.0))


def loglik(params, x, m) -> np.ndarray:
    """Per-customer log density of the mean spend `m` over `x` purchases (the note's eq. 3)."""
    p, q, v = params
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + x * m))  # fmt: skip


def fit(x, m) -> Fit:
    """Fit on the customers with x > 0 and m > 0 (the caller selects them)."""
    rows, counts, _ = compress(x, m)
    ux, um = rows.T
    result = fit_mle("gamma_gamma", NAMES, lambda prm: -np.dot(counts, loglik(prm, ux, um)), STARTS, len(x))
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
