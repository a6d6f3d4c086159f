"""BG/NBD (Fader, Hardie and Lee 2005, "Counting Your Customers the Easy Way"): purchases follow a
Poisson process at a gamma(r, alpha)-distributed rate while alive; after each purchase the buyer
drops out with a beta(a, b)-distributed probability.

Summary per customer: `x` repeat purchases, `t_x` time of the last one, `T` time since the first
(all from the first purchase, in weeks). Equation numbers are the paper's.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from uds_pipelines.lib.predictions.fitting import (
    Fit,
    by_value,
    compress,
    fit_mle,
    logaddexp,
    sample_rows,
    weighted_mean,
)

NAMES = ("r", "alpha", "a", "b")
STARTS = ((0.5, 5.0, 0.8, 2.5), (1.0, 1.0, 1.0, 1.0), (0.2, 20.0, 0.5, 5.0))


def loglik(params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood (eq. 6), vectorized over the summary."""
    return _loglik(params, *by_value(x), t_x, T)


def _loglik(params, xs, index, t_x, T) -> np.ndarray:
    # the gamma and beta functions depend on x alone: once per distinct x
    r, alpha, a, b = params
    head = (gammaln(r + xs) - gammaln(r) + r * np.log(alpha))[index]
    still = (betaln(a, b + xs) - betaln(a, b))[index]
    gone = np.where(xs > 0, betaln(a + 1, b + np.maximum(xs, 1) - 1) - betaln(a, b), -np.inf)[index]
    x = xs[index]
    return head + logaddexp(still - (r + x) * np.log(alpha + T), gone - (r + x) * np.log(alpha + t_x))


def _mean_negloglik(x, t_x, T):
    rows, counts, _ = compress(x, t_x, T)
    ux, ut, uT = rows.T
    xs, index = by_value(ux)
    return lambda p: -weighted_mean(counts, _loglik(p, xs, index, ut, uT))


def fit(x, t_x, T, starts=STARTS) -> Fit:
    """Maximum-likelihood fit on distinct summary rows, weighted by their counts."""
    x, t_x, T = (np.asarray(c, dtype=float) for c in (x, t_x, T))
    chosen = sample_rows(len(x))
    sample = None if chosen is None else _mean_negloglik(x[chosen], t_x[chosen], T[chosen])
    return fit_mle("bgnbd", NAMES, _mean_negloglik(x, t_x, T), starts, len(x), sample)


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
