"""BG/NBD (Fader, Hardie and Lee 2005, "Counting Your Customers the Easy Way"): purchases follow a
Poisson process at a gamma(r, alpha)-distributed rate while alive; after each purchase the buyer
drops out with a beta(a, b)-distributed probability.

Summary per customer: `x` repeat purchases, `t_x` time of the last one, `T` time since the first
(all from the first purchase, in weeks). Equation numbers are the paper's.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from uds_pipelines.lib.predictions.fitting import Fit, compress, fit_mle

NAMES = ("r", "alpha", "a", "b")
STARTS = ((0.5, 5.0, 0.8, 2.5), (1.0, 1.0, 1.0, 1.0), (0.2, 20.0, 0.5, 5.0))


def loglik(params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood (eq. 6), vectorized over the summary."""
    r, alpha, a, b = params
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    still = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(all="ignore"):
        gone = betaln(a + 1, b + np.maximum(x, 1) - 1) - betaln(a, b) - (r + x) * np.log(alpha + t_x)
    return head + np.logaddexp(still, np.where(x > 0, gone, -np.inf))


def fit(x, t_x, T) -> Fit:
    """Maximum-likelihood fit on distinct summary rows, weighted by their counts."""
    rows, counts, _ = compress(x, t_x, T)
    ux, ut, uT = rows.T
    return fit_mle("bgnbd", NAMES, lambda p: -np.dot(counts, loglik(p, ux, ut, uT)), STARTS, len(x))


def _odds_dead(params, x, t_x, T) -> np.ndarray:
    r, alpha, a, b = params
    with np.errstate(all="ignore"):
        odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return np.where(x > 0, odds, 0.0)


def p_alive(params, x, t_x, T) -> np.ndarray:
    """P(still alive at T | x, t_x, T) (eq. 11)."""
    return 1.0 / (1.0 + _odds_dead(params, x, t_x, T))


def expected_purchases(params, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (eq. 10)."""
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    growth = 1.0 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    return (a + b + x - 1) / (a - 1) * growth / (1.0 + _odds_dead(params, x, t_x, T))


def expected_population(params, t) -> np.ndarray:
    """E[X(t)] for a customer just acquired (eq. 9): used to spread a holdout's new buyers."""
    r, alpha, a, b = params
    t = np.asarray(t, dtype=float)
    return (
        (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )
