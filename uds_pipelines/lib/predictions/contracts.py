"""Contractual customers: Stripe subscriptions scored by the shifted-beta-geometric model (sbg.py).

Periods are months (MRR is monthly). A subscription that ended after d days churned at the end of
period floor(d / month) + 1; a live one (active, trialing, past_due, not of a deleted customer, not
canceled by the end day) has survived floor(d / month) renewals and is censored there. A model is
fitted per plan (the prices subscribed to) with enough subscriptions, one over all of them for the
rest; the censoring lets cohorts of every start date share a fit. Per subscriber (customer and currency of their live subscriptions): the
churn probability for the next month, P(still subscribed after it) as `p_alive`, expected renewals
in 90 days, the discounted expected residual lifetime in months, and MRR times the discounted
expected payments of the next 12 months as the predicted value."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from uds_pipelines.lib import lake
from uds_pipelines.lib.fx import minor_divisor_sql
from uds_pipelines.lib.lake import timestamp_literal
from uds_pipelines.lib.predictions import sbg
from uds_pipelines.lib.predictions.score import HORIZON_MONTHS, MONTHLY_DISCOUNT

MONTH_DAYS = 365.25 / 12
LIVE = ("active", "trialing", "past_due")


def subscriptions_sql(end: datetime, records_table: str = "person_records") -> str:
    """One row per subscription started by `end`: customer_id, currency, plan, mrr (major unit), live,
    periods (renewals survived if live, the churn period if ended)."""
    end_sql = timestamp_literal(end)
    return f"""
    WITH stripe_map AS (
        SELECT m.record_id AS stripe_customer_id, m.customer_id, coalesce(any_value(r.deleted), false) AS deleted
        FROM identity_map m LEFT JOIN {records_table} r ON r.source = 'stripe' AND r.record_id = m.record_id
        WHERE m.source = 'stripe' GROUP BY 1, 2
    ),
    subs AS (
        SELECT sm.customer_id, lower(s.currency) AS currency, s.plan,
               coalesce(s.mrr_minor, 0) / {minor_divisor_sql("lower(s.currency)")} AS mrr, s.created,
               -- canceled after the end day: still live as of the end day
               coalesce(s.status IN ({lake.sql_literal_list(LIVE)}) AND NOT sm.deleted, false)
                   OR coalesce(s.canceled_at > {end_sql}, false) AS live,
               least(coalesce(s.canceled_at, {end_sql}), {end_sql}) AS ended_at
        FROM stripe_subscriptions s JOIN stripe_map sm ON sm.stripe_customer_id = s.customer_id
        WHERE s.created <= {end_sql} AND s.currency IS NOT NULL
    )
    SELECT customer_id, currency, plan, mrr, live,
           CASE WHEN live THEN floor(date_diff('second', created, {end_sql}) / 86400.0 / {MONTH_DAYS})
                ELSE floor(date_diff('second', created, ended_at) / 86400.0 / {MONTH_DAYS}) + 1 END AS periods
    FROM subs
    -- one that ended without an end time (unknown status, an incomplete one that expired) is left
    -- out: dating its churn to the end day would make it older on every run
    WHERE live OR ended_at < {end_sql}
    ORDER BY customer_id, currency, created
    """


def score_subscribers(params, tenure, mrr) -> dict[str, np.ndarray]:
    """Per live subscriber: churn_next_month, p_alive, expected_purchases_90d (renewals),
    expected_residual_months (discounted), predicted_clv_12m, churn_3m (for the risk band)."""
    # Tenures are whole months, a few hundred distinct values however many subscribers: each term
    # is computed once per value (hyp2f1 costs microseconds a call) and spread back.
    tenures, at = np.unique(np.asarray(tenure, dtype=float), return_inverse=True)
    ahead = np.arange(1, HORIZON_MONTHS + 1)[:, None]
    survival = sbg.survival_ratio(params, tenures[None, :], ahead)
    factors = (1 + MONTHLY_DISCOUNT) ** -ahead
    churn = sbg.churn_next(params, tenures)[at]
    return {
        "churn_next_month": churn,
        "p_alive": 1.0 - churn,
        "expected_purchases_90d": survival[:3].sum(axis=0)[at],
        "expected_residual_months": sbg.residual_lifetime(params, tenures, MONTHLY_DISCOUNT)[at],
        "predicted_clv_12m": mrr * (factors * survival).sum(axis=0)[at],
        "churn_3m": 1.0 - survival[2][at],
    }
