"""Buyers with a known purchase process, for checking the predicted-trait models (opt-in: nothing
else in the generator uses it, so existing seeds give the same files).

BG/NBD buyers (Fader, Hardie and Lee 2005): after a first purchase at time 0, repeat purchases
follow a Poisson process at rate lambda ~ gamma(r, alpha) (shape r, rate alpha), and after each
repeat purchase the buyer drops out with probability p ~ beta(a, b). Each purchase is worth
gamma(p_spend, nu), nu ~ gamma(q, v) across buyers (Gamma-Gamma). Times are in weeks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BuyerParams:
    r: float = 0.243
    alpha: float = 4.414
    a: float = 0.793
    b: float = 2.426
    p: float = 6.25
    q: float = 3.74
    v: float = 15.44


def _latent(rng: np.random.Generator, n: int, params: BuyerParams):
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    # repeat purchases made before dropping out: dropout follows the k-th with probability p
    lifetime_purchases = rng.geometric(np.clip(dropout, 1e-12, 1.0))
    spend_rate = rng.gamma(params.q, 1.0 / params.v, n)
    return rate, lifetime_purchases, spend_rate


def simulate_summary(n: int, params: BuyerParams, seed: int, t_min: float = 26.0, t_max: float = 78.0):
    """(x, t_x, T, m) for `n` buyers first buying uniformly between `t_max` and `t_min` weeks before
    the end: vectorized, so millions of buyers take seconds. `m` is the mean repeat-purchase value
    (0 without repeats)."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(t_min, t_max, n)
    rate, lifetime_purchases, spend_rate = _latent(rng, n, params)
    arrivals = rng.poisson(rate * T)
    x = np.minimum(arrivals, lifetime_purchases)
    # given `arrivals` uniform arrival times in (0, T], the x-th is T times a beta(x, arrivals - x + 1)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), arrivals - x + 1), 0.0)
    # the sum of x gamma(p, nu) values is gamma(p x, nu)
    total = rng.gamma(np.maximum(params.p * x, 1e-12), 1.0 / spend_rate)
    m = np.where(x > 0, total / np.maximum(x, 1), 0.0)
    return x.astype(float), t_x, T, m


def simulate_purchases(n: int, params: BuyerParams, seed: int, horizon_weeks: float = 104.0):
    """Purchases of `n` buyers acquired uniformly over the first half of `horizon_weeks`, as
    (buyer index, week of purchase from the start, value): the first purchase and every repeat one
    up to the horizon. For tests that land purchases as orders (small `n`)."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0.0, horizon_weeks / 2, n)
    rate, lifetime_purchases, spend_rate = _latent(rng, n, params)
    rows = []
    for i in range(n):
        times = [start[i]]
        t = start[i]
        while len(times) - 1 < lifetime_purchases[i]:
            t += rng.exponential(1.0 / rate[i]) if rate[i] > 0 else np.inf
            if t > horizon_weeks:
                break
            times.append(t)
        values = rng.gamma(params.p, 1.0 / spend_rate[i], len(times))
        rows += [(i, w, v) for w, v in zip(times, values, strict=True)]
    return rows
