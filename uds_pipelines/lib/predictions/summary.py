"""The RFM summary the models are fitted on, built in DuckDB from purchase facts.

Purchases: the profiles' orders (`orders.orders_ctes`) with a positive net amount (a fully refunded
order bought nothing), by people who never held a Stripe subscription (their invoices are renewals
of a contract, scored by the retention model instead, `contracts.py`). Several orders on one day are
one purchase (as in the CDNOW summaries). Per customer and currency, in weeks as the papers count:
`frequency` the repeat purchase days (all but the first), `recency` first to last purchase day,
`T` first purchase day to the end day, `monetary_value` the mean value of the repeat purchase days
in the currency's major unit (the first purchase is left out, as Gamma-Gamma requires).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from uds_pipelines.lib.fx import minor_divisor_sql
from uds_pipelines.lib.lake import timestamp_literal
from uds_pipelines.lib.predictions.orders import orders_ctes

SUMMARY_COLUMNS = ("customer_id", "currency", "frequency", "recency", "T", "monetary_value")


def purchases_sql(records_table: str = "person_records") -> str:
    """SELECT customer_id, currency, ordered_at, amount (major unit): one row per order counted."""
    return f"""
    WITH {orders_ctes(records_table)},
    subscribers AS (
        SELECT DISTINCT sm.customer_id FROM stripe_subscriptions s
        JOIN stripe_map sm ON sm.stripe_customer_id = s.customer_id
    )
    SELECT customer_id, currency, ordered_at, net_minor / {minor_divisor_sql("currency")} AS amount
    FROM orders
    WHERE net_minor > 0 AND ordered_at IS NOT NULL AND currency IS NOT NULL
      AND customer_id NOT IN (SELECT customer_id FROM subscribers)
    """


def _day(value: datetime | date) -> str:
    """The UTC day of `value` as a DuckDB DATE literal."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"DATE '{value.isoformat()[:10]}'"


def purchase_days_sql(purchases: str, end: datetime) -> str:
    """Purchase days up to `end` (inclusive): customer_id, currency, day, amount (the day's total)."""
    return f"""
    SELECT customer_id, currency, (ordered_at AT TIME ZONE 'UTC')::DATE AS day, sum(amount) AS amount
    FROM ({purchases}) WHERE ordered_at <= {timestamp_literal(end)}
    GROUP BY ALL
    """


def summary_sql(purchases: str, end: datetime) -> str:
    """One row per customer and currency with a purchase on or before `end` (SUMMARY_COLUMNS)."""
    return f"""
    WITH days AS ({purchase_days_sql(purchases, end)}),
    firsts AS (SELECT *, min(day) OVER (PARTITION BY customer_id, currency) AS first_day FROM days)
    SELECT customer_id, currency, (count(*) - 1)::DOUBLE AS frequency,
           date_diff('day', min(day), max(day)) / 7.0 AS recency,
           date_diff('day', min(day), {_day(end)}) / 7.0 AS "T",
           -- rounded: a parallel sum's last bits vary from run to run, the fit must not
           round(coalesce(avg(amount) FILTER (WHERE day > first_day), 0.0), 6)::DOUBLE AS monetary_value
    FROM firsts GROUP BY customer_id, currency ORDER BY customer_id, currency
    """


def holdout_counts_sql(purchases: str, split: datetime, end: datetime) -> str:
    """Purchase days after `split` up to `end`, per customer and currency (the holdout actuals)."""
    return f"""
    SELECT customer_id, currency, count(*)::DOUBLE AS holdout_purchases
    FROM ({purchase_days_sql(purchases, end)}) WHERE day > {_day(split)}
    GROUP BY customer_id, currency
    """
