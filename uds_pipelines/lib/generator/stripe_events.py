"""One Stripe customer's life as a time-ordered list of webhook events (already serialized)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass

from uds_pipelines.lib.generator import stripe_objects as so
from uds_pipelines.lib.generator.ids import ALPHABET
from uds_pipelines.lib.generator.people import Person
from uds_pipelines.lib.generator.pools import JUNK_EMAILS, JUNK_PHONES
from uds_pipelines.lib.generator.variants import (
    JUNK_SHARE,
    email_variant,
    first_name_variant,
    last_name_variant,
    phone_variant,
)

# Events each action emits; plans are drawn so a customer's events sum exactly to its budget.
COST = {
    "update": 1,
    "charge": 1,
    "checkout": 2,
    "subscribe": 3,
    "renew": 2,
    "sub_update": 1,
    "cancel": 1,
    "refund": 1,
    "delete": 1,
}


@dataclass
class CustomerPlan:
    customer_id: str
    person: Person
    budget: int
    t0: int


@dataclass
class Event:
    created: int
    line: str
    event_id: str
    etype: str
    person_id: str
    customer_id: str
    # (email as given, granted, unix time) for checkout sessions that carry consent.promotions.
    consent: tuple[str, bool, int] | None = None
    # (currency, charged, refunded) in minor units for charge.succeeded / charge.refunded.
    money: tuple[str, int, int] | None = None


# One encoder reused for every event; the object graphs are trees, so the circularity check is skipped.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def dumps(obj: object) -> str:
    return _ENCODER.encode(obj)


def plan_actions(rng: random.Random, budget: int) -> list[str]:
    """A feasible sequence of actions whose event costs add up to `budget - 1` (after customer.created)."""
    remaining = budget - 1
    active = False
    open_charges = 0
    actions: list[str] = []
    while remaining > 0:
        if remaining == 1 and actions and rng.random() < 0.08:
            actions.append("delete")
            break
        options = ["update", "charge"]
        weights = [2, 3]
        if remaining >= 2:
            options.append("checkout")
            weights.append(3)
        if not active and remaining >= 3:
            options.append("subscribe")
            weights.append(4)
        if active:
            options += ["sub_update", "cancel"]
            weights += [1, 1]
            if remaining >= 2:
                options.append("renew")
                weights.append(8)
        if open_charges:
            options.append("refund")
            weights.append(1)
        action = rng.choices(options, weights)[0]
        if action == "subscribe":
            active = True
        elif action == "cancel":
            active = False
        elif action == "refund":
            open_charges -= 1
        if action in ("charge", "checkout", "subscribe", "renew"):
            open_charges += 1
        actions.append(action)
        remaining -= COST[action]
    return actions


def customer_events(rng: random.Random, plan: CustomerPlan, end_ts: int) -> list[Event]:
    """Every event of one customer, serialized at emission so later state changes never leak back."""
    person = plan.person
    cid = plan.customer_id
    pid = person.person_id
    currency = person.currency
    events: list[Event] = []

    def emit(
        t: int, etype: str, obj: dict, previous: dict | None = None, api: bool = True, consent=None
    ) -> None:
        evt = so.envelope(rng, t, etype, obj, previous, api)
        money = None
        if etype == "charge.succeeded":
            money = (obj["currency"], obj["amount"], 0)
        elif etype == "charge.refunded":
            money = (obj["currency"], 0, obj["amount_refunded"])
        events.append(Event(t, dumps(evt), evt["id"], etype, pid, cid, consent, money))

    def full_name() -> str:
        first, _ = first_name_variant(rng, person)
        last, _ = last_name_variant(rng, person)
        return f"{first} {last}"

    email = email_variant(rng, person)[0] if rng.random() > 0.05 else None
    phone = phone_variant(rng, person)[0] if rng.random() < 0.5 else None
    if rng.random() < JUNK_SHARE:
        # Checkout forms filled with placeholder identifiers that unrelated people share.
        email, phone = rng.choice(JUNK_EMAILS), rng.choice(JUNK_PHONES)
    name = full_name() if rng.random() > 0.08 else None
    cust = so.customer(
        cid,
        plan.t0,
        email,
        name,
        phone,
        so.address(person, rng.random() < 0.6),
        currency if rng.random() < 0.7 else None,
        "".join(rng.choices(ALPHABET[10:36], k=7)),
    )
    emit(plan.t0, "customer.created", cust)

    actions = plan_actions(rng, plan.budget)
    times = sorted(rng.randint(plan.t0 + 60, max(plan.t0 + 61, end_ts - 60)) for _ in actions)
    open_charges: list[dict] = []
    sub: dict | None = None
    for action, t in zip(actions, times, strict=True):
        if action == "update":
            field = "email" if cust["email"] is None else rng.choice(["email", "phone", "name", "address"])
            previous = {field: cust[field]}
            if field == "email":
                cust["email"] = email_variant(rng, person, clean=0.3)[0]
            elif field == "phone":
                cust["phone"] = phone_variant(rng, person)[0]
            elif field == "name":
                cust["name"] = full_name()
            else:
                cust["address"] = so.address(person)
            emit(t, "customer.updated", cust, previous)
        elif action == "charge":
            ch = so.charge(
                rng, t, cid, rng.choice(so.ONE_OFF[currency]), currency, cust["email"], cust["name"]
            )
            open_charges.append(ch)
            emit(t, "charge.succeeded", ch)
        elif action == "checkout":
            amount = rng.choice(so.ONE_OFF[currency]) * rng.randint(1, 2)
            details_email = cust["email"] or email_variant(rng, person)[0]
            promotions = rng.choices(["opt_in", "opt_out", None], [5, 3, 2])[0]
            cs = so.checkout_session(
                rng,
                t,
                cid,
                amount,
                currency,
                details_email,
                cust["name"],
                cust["phone"],
                so.address(person),
                promotions,
            )
            consent = (details_email, promotions == "opt_in", t) if promotions else None
            emit(t, "checkout.session.completed", cs, consent=consent)
            ch = so.charge(rng, t + 1, cid, amount, currency, details_email, cust["name"])
            open_charges.append(ch)
            emit(t + 1, "charge.succeeded", ch)
        elif action == "subscribe":
            price_id, unit = rng.choice(so.PLANS[currency])
            interval = "month" if rng.random() < 0.8 else "year"
            pr = so.price(price_id, unit if interval == "month" else unit * 10, currency, interval)
            sub = so.subscription(rng, t, cid, pr, rng.choices([1, 2, 3], [8, 2, 1])[0])
            emit(t, "customer.subscription.created", sub)
            _invoice_pair(rng, emit, open_charges, sub, t, cust, "subscription_create")
        elif action == "renew" and sub is not None:
            length = sub["current_period_end"] - sub["current_period_start"]
            sub["current_period_start"], sub["current_period_end"] = t, t + length
            _invoice_pair(rng, emit, open_charges, sub, t, cust, "subscription_cycle")
        elif action == "sub_update" and sub is not None:
            item = sub["items"]["data"][0]
            previous = {"items": {"data": [dict(item)]}, "quantity": item["quantity"]}
            item["quantity"] = item["quantity"] + rng.choice([1, -1]) if item["quantity"] > 1 else 2
            emit(t, "customer.subscription.updated", sub, previous)
        elif action == "cancel" and sub is not None:
            sub.update(status="canceled", canceled_at=t, ended_at=t)
            emit(t, "customer.subscription.deleted", sub)
            sub = None
        elif action == "refund" and open_charges:
            ch = open_charges.pop(rng.randrange(len(open_charges)))
            full = rng.random() < 0.6
            amount = ch["amount"] if full else max(1, ch["amount"] // rng.choice([2, 3, 4]))
            re = so.refund(rng, t, ch, amount)
            previous = {"amount_refunded": 0, "refunded": False}
            ch["amount_refunded"], ch["refunded"] = amount, full
            ch["refunds"]["data"], ch["refunds"]["total_count"] = [re], 1
            emit(t, "charge.refunded", ch, previous)
        elif action == "delete":
            emit(t, "customer.deleted", cust)
    return events


def _invoice_pair(
    rng: random.Random,
    emit: Callable[..., None],
    open_charges: list[dict],
    sub: dict,
    t: int,
    cust: dict,
    reason: str,
) -> None:
    """A subscription payment: charge.succeeded (carrying `invoice`) then invoice.paid (carrying `charge`)."""
    item = sub["items"]["data"][0]
    amount = item["price"]["unit_amount"] * item["quantity"]
    invoice_id = so.sid(rng, "in_")
    ch = so.charge(
        rng, t + 1, sub["customer"], amount, sub["currency"], cust["email"], cust["name"], invoice_id
    )
    inv = so.invoice(rng, t, sub, ch["id"], amount, cust["email"], cust["name"], reason)
    inv["id"] = invoice_id
    for line in inv["lines"]["data"]:
        line["invoice"] = invoice_id
    sub["latest_invoice"] = invoice_id
    open_charges.append(ch)
    emit(t + 1, "charge.succeeded", ch, api=False)
    emit(t + 3, "invoice.paid", inv, api=False)
