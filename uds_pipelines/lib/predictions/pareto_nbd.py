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


def _pairs(x, t_x, T) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(distinct x, distinct t, index of each (x, t_x), index of each (x, T)): A0's hypergeometric
    terms depend on x and one time only, so they are computed once per distinct (x, time) pair;
    a summary rounded to days has a few of them per customer at most."""
    both = np.column_stack([np.concatenate([x, x]), np.concatenate([t_x, T])])
    distinct, inverse = np.unique(both, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    return distinct[:, 0], distinct[:, 1], inverse[: len(x)], inverse[len(x) :]


def _log_a0(params, pairs) -> np.ndarray:
    r, alpha, s, beta = params
    px, pt, at_tx, at_T = pairs
    rsx = r + s + px
    if alpha >= beta:
        base, second = alpha, s + 1
    else:
        base, second = beta, r + px
    gap = abs(alpha - beta)
    with np.errstate(all="ignore"):
        term = np.log(hyp2f1(rsx, second, rsx + 1, gap / (base + pt))) - rsx * np.log(base + pt)
        first, last = term[at_tx], term[at_T]
        # log(e^first - e^last): first >= last since t_x <= T
        return first + np.log1p(-np.exp(last - first))


def loglik(params, x, t_x, T, pairs=None) -> np.ndarray:
    """Per-customer log-likelihood (the note's eq. 18 and 19)."""
    r, alpha, s, beta = params
    pairs = _pairs(x, t_x, T) if pairs is None else pairs
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    with np.errstate(all="ignore"):
        dead = np.log(s / (r + s + x)) + _log_a0(params, pairs)
    # t_x == T (bought at the very end): A0 is 0 and its log -inf, which logaddexp absorbs
    return head + np.logaddexp(alive, np.where(np.isnan(dead), -np.inf, dead))


def _mean_negloglik(x, t_x, T):
    rows, counts, _ = compress(x, t_x, T)
    ux, ut, uT = rows.T
    pairs = _pairs(ux, ut, uT)
    return lambda p: -weighted_mean(counts, loglik(p, ux, ut, uT, pairs))


def fit(x, t_x, T, starts=STARTS) -> Fit:
    """Maximum-likelihood fit on distinct summary rows (starts searched on a sample when large)."""
    x, t_x, T = (np.asarray(c, dtype=float) for c in (x, t_x, T))
    chosen = sample_rows(len(x))
    sample = None if chosen is None else _mean_negloglik(x[chosen], t_x[chosen], T[chosen])
    return fit_mle("pareto_nbd", NAMES, _mean_negloglik(x, t_x, T), starts, len(x), sample)


def p_alive(params, x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) (the note's eq. 23)."""
    r, alpha, s, beta = params
    with np.errstate(all="ignore"):
        log_odds = (np.log(s / (r + s + x)) + (r + x) * np.log(alpha + T) + s * np.log(beta + T)
                    + _log_a0(params, _pairs(x, t_x, T)))  # fmt: skip
    return 1.0 / (1.0 + np.exp(np.where(np.isnan(log_odds), -np.inf, log_odds)))


def expected_purchases(params, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (the note's eq. 27)."""
    r, alpha, s, beta = params
    ratio = (beta + T) / (beta + T + t)
    # (1 - ratio^(s-1)) / (s-1) tends to -ln(ratio) as s -> 1
    span = -np.log(ratio) if abs(s - 1) < 1e-9 else (1.0 - ratio ** (s - 1)) / (s - 1)
    return (r + x) * (beta + T) / (alpha + T) * span * p_alive(params, x, t_x, T)
