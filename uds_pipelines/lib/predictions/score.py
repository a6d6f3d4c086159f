"""Per-customer figures from fitted non-contractual models: probability alive, expected purchases
over 90 days, and the 12-month predicted lifetime value (expected purchases per month times the
expected spend per purchase, discounted monthly). Computed once per distinct summary row."""

from __future__ import annotations

import numpy as np

from uds_pipelines.lib.predictions import bgnbd, gamma_gamma, pareto_nbd
from uds_pipelines.lib.predictions.fitting import compress

PURCHASE_MODELS = {"bgnbd": bgnbd, "pareto_nbd": pareto_nbd}

WEEKS_90D = 90 / 7
MONTH_WEEKS = 365.25 / 12 / 7
HORIZON_MONTHS = 12
# Annual discount rate for predicted values (a common cost of capital; Fader, Hardie and Lee 2005
# use 15% a year for CDNOW); applied monthly.
ANNUAL_DISCOUNT = 0.10
MONTHLY_DISCOUNT = (1 + ANNUAL_DISCOUNT) ** (1 / 12) - 1


def discounted_purchases(model: str, params, x, t_x, T, months: int = HORIZON_MONTHS) -> np.ndarray:
    """Sum over the next `months` months of that month's expected purchases / (1 + d)^month."""
    module = PURCHASE_MODELS[model]
    cumulative = np.array(
        [module.expected_purchases(params, k * MONTH_WEEKS, x, t_x, T) for k in range(1, months + 1)]
    )
    per_month = np.diff(cumulative, axis=0, prepend=0.0)
    factors = (1 + MONTHLY_DISCOUNT) ** -np.arange(1, months + 1)
    return factors @ per_month


def score_buyers(model: str, params, spend_params, x, t_x, T, m) -> dict[str, np.ndarray]:
    """p_alive, expected_purchases_90d, expected_spend and predicted_clv_12m per customer (the
    last two NaN without a spend fit). Non-finite results (numerical overflow) become NaN."""
    rows, _, inverse = compress(x, t_x, T)
    ux, ut, uT = rows.T
    module = PURCHASE_MODELS[model]
    with np.errstate(all="ignore"):
        alive = module.p_alive(params, ux, ut, uT)[inverse]
        expected = module.expected_purchases(params, WEEKS_90D, ux, ut, uT)[inverse]
        discounted = discounted_purchases(model, params, ux, ut, uT)[inverse]
        if spend_params is None:
            spend = np.full(len(inverse), np.nan)
        else:
            spend = gamma_gamma.expected_spend(spend_params, x, m)
    out = {"p_alive": alive, "expected_purchases_90d": expected, "expected_spend": spend,
           "predicted_clv_12m": discounted * spend}  # fmt: skip
    return {k: np.where(np.isfinite(v), v, np.nan) for k, v in out.items()}
