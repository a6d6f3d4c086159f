"""The predicted traits profiles carry (CONTRACT section 8): the churn-risk bands and the join
that brings `customer_predictions` into `customer_profiles`."""

from __future__ import annotations

import hashlib
import json

import numpy as np

# churn_risk from the probability the customer is lost: 1 - p_alive for one-off buyers (lost
# already, unseen), the probability of cancelling within three months for subscribers.
# low below MEDIUM_FROM, high from HIGH_FROM.
MEDIUM_FROM = 0.25
HIGH_FROM = 0.5
MODEL_GENERATION = "v1"

PROFILE_COLUMNS = {
    "p_alive": "DOUBLE",
    "expected_purchases_90d": "DOUBLE",
    "predicted_clv_12m": "DOUBLE",
    "predicted_clv_12m_reporting": "DOUBLE",
    "churn_risk": "VARCHAR",
    "model_version": "VARCHAR",
}


def churn_risk(lost: np.ndarray) -> np.ndarray:
    """`low` | `medium` | `high` per probability lost (None where it is NaN)."""
    lost = np.asarray(lost, dtype=float)
    bands = np.where(lost >= HIGH_FROM, "high", np.where(lost >= MEDIUM_FROM, "medium", "low")).astype(object)
    bands[np.isnan(lost)] = None
    return bands


def model_version(parts: dict[str, dict[str, float]]) -> str:
    """`<models>.v1-<hash of the fitted parameters>`: the same fit gives the same version (a fit on
    the same data and as-of, or the stored models every run scores with until a refit);
    `parts` maps a label (`bgnbd+gamma_gamma:usd`, `sbg`) to its parameters."""
    models = "+".join(sorted({label.split(":")[0] for label in parts}))
    # 5 significant digits: far above the optimizer's tolerance, so a rerun hashes the same
    rounded = {
        label: {name: float(f"{value:.5g}") for name, value in p.items()} for label, p in parts.items()
    }
    digest = hashlib.sha256(json.dumps(rounded, sort_keys=True).encode()).hexdigest()[:10]
    return f"{models}.{MODEL_GENERATION}-{digest}"


def profile_predictions_sql() -> str:
    """Per customer and currency, the profile's predicted columns from the view
    `customer_predictions`; `predicted_clv_12m_reporting` sums every currency's (NULL when one has
    no rate, like `lifetime_value_reporting`)."""
    return """
    SELECT customer_id, currency, p_alive, expected_purchases_90d, predicted_clv_12m,
           CASE WHEN count(*) FILTER (WHERE predicted_clv_12m IS NOT NULL AND predicted_clv_12m_reporting IS NULL)
                     OVER (PARTITION BY customer_id) = 0
                THEN sum(predicted_clv_12m_reporting) OVER (PARTITION BY customer_id) END
               AS predicted_clv_12m_reporting,
           churn_risk, model_version
    FROM customer_predictions
    """


def with_predictions(profiles: str) -> str:
    """A parenthesized query: `profiles` (a table or parenthesized query with `customer_id` and
    `currency`) with PROFILE_COLUMNS appended, matched on the profile's currency; NULL for people
    without predictions."""
    columns = ", ".join(f"pr.{c}" for c in PROFILE_COLUMNS)
    return (f"(SELECT p.*, {columns} FROM {profiles} AS p LEFT JOIN ({profile_predictions_sql()}) AS pr "
            f"ON pr.customer_id = p.customer_id AND pr.currency = p.currency)")  # fmt: skip
