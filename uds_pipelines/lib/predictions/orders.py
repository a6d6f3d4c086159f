"""The purchase facts profiles count and the predicted traits model: one row per order, net of
refunds, from the Stripe staging views. One definition, so the models see the orders the profiles'
`orders_count` and `lifetime_value` count (the rules are in lib/profiles/build.py's docstring)."""

from __future__ import annotations

from uds_pipelines.lib import lake

# The tables the order facts (and so profiles and predictions) are built from: the assets' deps.
ORDER_FACT_TABLES = (
    "identity_map",
    "person_records",
    "stripe_charges",
    "stripe_invoices",
    "stripe_refunds",
    "stripe_subscriptions",
)
# Refund states that never moved money back (or moved it back again).
VOID_REFUND = ("failed", "canceled")


def order_steps(records_table: str) -> list[tuple[str, str]]:
    """(name, SELECT) steps `stripe_map` (Stripe customer -> customer_id, deleted), `rf` and `orders`
    (customer_id, currency lower-case, net_minor, ordered_at), each reading the ones before it and
    the views `identity_map`, `stripe_charges`, `stripe_invoices`, `stripe_refunds` and `records_table`."""
    void = lake.sql_literal_list(VOID_REFUND)
    return [
        ("stripe_map", f"""
        SELECT m.record_id AS stripe_customer_id, m.customer_id, coalesce(any_value(r.deleted), false) AS deleted
        FROM identity_map m
        LEFT JOIN {records_table} r ON r.source = 'stripe' AND r.record_id = m.record_id
        WHERE m.source = 'stripe' GROUP BY 1, 2"""),
        # refund objects, one per refund id (staging keeps each refund's newest state)
        ("rf", f"""
        SELECT charge_id, sum(amount) AS refunded FROM stripe_refunds
        WHERE charge_id IS NOT NULL AND coalesce(status, '') NOT IN ({void}) GROUP BY charge_id"""),
        ("orders", """
        SELECT sm.customer_id, lower(ch.currency) AS currency,
               ch.amount - least(greatest(coalesce(ch.amount_refunded, 0), coalesce(rf.refunded, 0)),
                                 coalesce(ch.amount, 0)) AS net_minor,
               ch.created AS ordered_at
        FROM stripe_charges ch JOIN stripe_map sm ON sm.stripe_customer_id = ch.customer_id
        LEFT JOIN rf ON rf.charge_id = ch.charge_id
        WHERE ch.status = 'succeeded' OR (ch.status IS NULL AND ch.paid)
        UNION ALL
        SELECT sm.customer_id, lower(i.currency), i.amount_paid - least(coalesce(rf.refunded, 0), i.amount_paid),
               coalesce(i.paid_at, i.created)
        FROM stripe_invoices i JOIN stripe_map sm ON sm.stripe_customer_id = i.customer_id
        LEFT JOIN rf ON rf.charge_id = i.charge_id
        WHERE i.status = 'paid' AND coalesce(i.amount_paid, 0) > 0
          AND (i.charge_id IS NULL OR i.charge_id NOT IN (SELECT charge_id FROM stripe_charges WHERE charge_id IS NOT NULL))
          AND i.invoice_id NOT IN (SELECT invoice_id FROM stripe_charges WHERE invoice_id IS NOT NULL)"""),
    ]


def orders_ctes(records_table: str) -> str:
    """`order_steps` as CTEs, to put in a WITH list."""
    return ",\n".join(f"{name} AS ({sql}\n    )" for name, sql in order_steps(records_table))
