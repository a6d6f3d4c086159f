"""Shifted-beta-geometric retention (Fader and Hardie 2007, "How to Project Customer Retention"):
a subscriber churns at the end of each period with probability theta, and theta is beta(alpha,
beta) across subscribers, so the retention rate rises with tenure as the likely churners leave.

The data are, per subscriber, the periods survived and whether they churned then (a survivor
curve is the special case of one cohort observed to the same horizon)."""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, hyp2f1

from uds_pipelines.lib.predictions.fitting import Fit, compress, fit_mle, weighted_mean

NAMES = ("alpha", "beta")
STARTS = ((1.0, 1.0), (0.5, 3.0), (2.0, 10.0))


def loglik(params, periods, churned) -> np.ndarray:
    """Per-subscriber log-likelihood: ln P(T = t) (eq. 5) for one who churned in period t (t >= 1),
    ln S(t) (eq. 6) for one still subscribed after t periods."""
    alpha, beta = params
    churn = betaln(alpha + 1, beta + np.maximum(periods, 1) - 1) - betaln(alpha, beta)
    alive = betaln(alpha, beta + periods) - betaln(alpha, beta)
    return np.where(churned, churn, alive)


def from_survivors(survivors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(periods, churned, weights) of a cohort's survivor counts n_0, n_1, ..., n_T."""
    n = np.asarray(survivors, dtype=float)
    lost = n[:-1] - n[1:]
    periods = np.append(np.arange(1, len(n)), len(n) - 1).astype(float)
    churned = np.append(np.ones(len(lost), bool), False)
    return periods, churned, np.append(lost, n[-1])


def fit(periods, churned, weights=None) -> Fit:
    """Fit on subscribers (or, with `weights`, on counts per (periods, churned) row)."""
    if weights is None:
        rows, weights, _ = compress(periods, churned)
        periods, churned = rows[:, 0], rows[:, 1] > 0
    w = np.asarray(weights, dtype=float)
    result = fit_mle("sbg", NAMES, lambda p: -weighted_mean(w, loglik(p, periods, churned)), STARTS, w.sum())
    if not np.any(np.asarray(churned) & (w > 0)):
        result.problems.append("no subscriber has churned yet: the churn rate cannot be estimated")
    return result


def churn_next(params, periods) -> np.ndarray:
    """P(churn at the end of the next period | survived `periods` periods) = alpha / (alpha + beta + periods)."""
    alpha, beta = params
    return alpha / (alpha + beta + np.asarray(periods, dtype=float))


def survival_ratio(params, periods, ahead) -> np.ndarray:
    """P(still subscribed `ahead` periods from now | survived `periods`) = S(n + k) / S(n)."""
    alpha, beta = params
    n = np.asarray(periods, dtype=float)
    return np.exp(betaln(alpha, beta + n + ahead) - betaln(alpha, beta + n))


def residual_lifetime(params, periods, discount: float) -> np.ndarray:
    """Discounted expected residual lifetime in periods, future periods only (Fader and Hardie 2010,
    "Customer-Base Valuation in a Contractual Setting", DERL): sum over k >= 1 of
    S(n + k) / S(n) / (1 + d)^k = 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d)) - 1. Undiscounted,
    the sum diverges for alpha <= 1, so a discount rate per period is required."""
    alpha, beta = params
    n = np.asarray(periods, dtype=float)
    return hyp2f1(1.0, beta + n, alpha + beta + n, 1.0 / (1.0 + discount)) - 1.0
