"""Pareto/NBD (Schmittlein, Morrison and Colombo 1987), in the form of Fader and Hardie's note "A
Note on Deriving the Pareto/NBD Model and Related Expressions" (2005): purchases are Poisson at a
gamma(r, alpha) rate while alive, lifetimes exponential at a gamma(s, beta) rate.

Same summary as BG/NBD (x, t_x, T). The likelihood's A0 term is a difference of two Gauss
hypergeometric terms, evaluated in logs (eq. 19 of the note, with its alpha >= beta and alpha <
beta branches)."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, hyp2f1

from uds_pipelines.lib.predictions.fitting import Fit, compress, fit_mle, sample_rows, weighted_mean

NAMES = ("r", "alpha", "s", "beta")
STARTS = ((0.5, 10.0, 0.5, 10.0), (1.0, 1.0, 1.0, 1.0), (0.3, 5.0, 1.5, 30.0))


def _log_a0(params, x, t_x, T) -> np.ndarray:
    r, alpha, s, beta = params
    rsx = r + s + x
    if alpha >= beta:
        base, second = alpha, s + 1
    else:
        base, second = beta, r + x
    gap = abs(alpha - beta)
    with np.errstate(all="ignore"):
        first = np.log(hyp2f1(rsx, second, rsx + 1, gap / (base + t_x))) - rsx * np.log(base + t_x)
        last = np.log(hyp2f1(rsx, second, rsx + 1, gap / (base + T))) - rsx * np.log(base + T)
        # log(e^first - e^last): first >= last since t_x <= T
        return first + np.log1p(-np.exp(last - first))


def loglik(params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood (the note's eq. 18 and 19)."""
    r, alpha, s, beta = params
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    with np.errstate(all="ignore"):
        dead = np.log(s / (r + s + x)) + _log_a0(params, x, t_x, T)
    # t_x == T (bought at the very end): A0 is 0 and its log -inf, which logaddexp absorbs
    return head + np.logaddexp(alive, np.where(np.isnan(dead), -np.inf, dead))


def _mean_negloglik(x, t_x, T):
    rows, counts, _ = compress(x, t_x, T)
    ux, ut, uT = rows.T
    return lambda p: -weighted_mean(counts, loglik(p, ux, ut, uT))


def fit(x, t_x, T) -> Fit:
    """Maximum-likelihood fit on distinct summary rows (starts searched on a sample when large)."""
    x, t_x, T = (np.asarray(c, dtype=float) for c in (x, t_x, T))
    chosen = sample_rows(len(x))
    sample = None if chosen is None else _mean_negloglik(x[chosen], t_x[chosen], T[chosen])
    return fit_mle("pareto_nbd", NAMES, _mean_negloglik(x, t_x, T), STARTS, len(x), sample)


def p_alive(params, x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) (the note's eq. 23)."""
    r, alpha, s, beta = params
    with np.errstate(all="ignore"):
        log_odds = (np.log(s / (r + s + x)) + (r + x) * np.log(alpha + T) + s * np.log(beta + T)
                    + _log_a0(params, x, t_x, T))  # fmt: skip
    return 1.0 / (1.0 + np.exp(np.where(np.isnan(log_odds), -np.inf, log_odds)))


def expected_purchases(params, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (the note's eq. 27)."""
    r, alpha, s, beta = params
    ratio = (beta + T) / (beta + T + t)
    # (1 - ratio^(s-1)) / (s-1) tends to -ln(ratio) as s -> 1
    span = -np.log(ratio) if abs(s - 1) < 1e-9 else (1.0 - ratio ** (s - 1)) / (s - 1)
    return (r + x) * (beta + T) / (alpha + T) * span * p_alive(params, x, t_x, T)
