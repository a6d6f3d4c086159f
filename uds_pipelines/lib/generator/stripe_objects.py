"""Stripe API object shapes (customer, charge, refund, invoice, subscription, checkout session, event)."""

from __future__ import annotations

import random

from uds_pipelines.lib.generator.ids import sid

API_VERSION = "2024-06-20"

# One-off prices and monthly plan prices in minor units; jpy is zero-decimal.
ONE_OFF = {
    "usd": [999, 1999, 2500, 4999, 12900],
    "eur": [899, 1900, 2450, 4500, 11900],
    "gbp": [799, 1500, 2200, 3999, 9900],
    "jpy": [500, 1500, 3000, 9800, 15000],
}
PLANS = {
    "usd": [("price_basic_usd", 900), ("price_pro_usd", 2000), ("price_team_usd", 4900)],
    "eur": [("price_basic_eur", 800), ("price_pro_eur", 1900), ("price_team_eur", 4500)],
    "gbp": [("price_basic_gbp", 700), ("price_pro_gbp", 1700), ("price_team_gbp", 3900)],
    "jpy": [("price_basic_jpy", 1000), ("price_pro_jpy", 2500), ("price_team_jpy", 6000)],
}
STATES = {"US": "CA", "BR": "SP", "IN": "MH", "JP": "13"}


def address(person, present: bool = True) -> dict:
    if not present:
        return {
            "city": None,
            "country": None,
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": None,
        }
    return {
        "city": person.city,
        "country": person.country,
        "line1": person.address_line1,
        "line2": None,
        "postal_code": person.postcode,
        "state": STATES.get(person.country),
    }


def customer(cid: str, created: int, email, name, phone, addr: dict, currency, prefix: str) -> dict:
    return {
        "id": cid,
        "object": "customer",
        "address": addr,
        "balance": 0,
        "created": created,
        "currency": currency,
        "delinquent": False,
        "description": None,
        "email": email,
        "invoice_prefix": prefix,
        "livemode": False,
        "metadata": {},
        "name": name,
        "phone": phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def charge(
    rng: random.Random, created: int, cid: str, amount: int, currency: str, email, name, invoice=None
) -> dict:
    ch = sid(rng, "ch_")
    return {
        "id": ch,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "balance_transaction": sid(rng, "txn_"),
        "billing_details": {"address": None, "email": email, "name": name, "phone": None},
        "captured": True,
        "created": created,
        "currency": currency,
        "customer": cid,
        "invoice": invoice,
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": sid(rng, "pi_"),
        "payment_method": sid(rng, "pm_"),
        "receipt_email": email,
        "refunded": False,
        "refunds": {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/charges/{ch}/refunds",
        },
        "status": "succeeded",
    }


def refund(rng: random.Random, created: int, ch: dict, amount: int) -> dict:
    return {
        "id": sid(rng, "re_"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": sid(rng, "txn_"),
        "charge": ch["id"],
        "created": created,
        "currency": ch["currency"],
        "metadata": {},
        "payment_intent": ch["payment_intent"],
        "reason": "requested_by_customer",
        "status": "succeeded",
    }


def price(price_id: str, unit_amount: int, currency: str, interval: str) -> dict:
    return {
        "id": price_id if interval == "month" else price_id + "_yearly",
        "object": "price",
        "active": True,
        "currency": currency,
        "product": "prod_" + price_id.split("_")[1],
        "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def subscription(rng: random.Random, created: int, cid: str, pr: dict, quantity: int) -> dict:
    sub = sid(rng, "sub_")
    period = 30 * 86400 if pr["recurring"]["interval"] == "month" else 365 * 86400
    return {
        "id": sub,
        "object": "subscription",
        "cancel_at_period_end": False,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": pr["currency"],
        "current_period_end": created + period,
        "current_period_start": created,
        "customer": cid,
        "ended_at": None,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": sid(rng, "si_", 14),
                    "object": "subscription_item",
                    "created": created,
                    "price": pr,
                    "quantity": quantity,
                    "subscription": sub,
                }
            ],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={sub}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": {},
        "start_date": created,
        "status": "active",
    }


def invoice(
    rng: random.Random, created: int, sub: dict, ch_id: str, amount: int, email, name, reason: str
) -> dict:
    inv = sid(rng, "in_")
    item = sub["items"]["data"][0]
    return {
        "id": inv,
        "object": "invoice",
        "amount_due": amount,
        "amount_paid": amount,
        "amount_remaining": 0,
        "billing_reason": reason,
        "charge": ch_id,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": sub["currency"],
        "customer": sub["customer"],
        "customer_email": email,
        "customer_name": name,
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": sid(rng, "il_"),
                    "object": "line_item",
                    "amount": amount,
                    "currency": sub["currency"],
                    "period": {"start": created, "end": sub["current_period_end"]},
                    "price": {
                        "id": item["price"]["id"],
                        "object": "price",
                        "unit_amount": item["price"]["unit_amount"],
                    },
                    "quantity": item["quantity"],
                    "subscription": sub["id"],
                }
            ],
            "has_more": False,
        },
        "livemode": False,
        "paid": True,
        "status": "paid",
        "status_transitions": {"finalized_at": created, "paid_at": created + 2},
        "subscription": sub["id"],
        "subtotal": amount,
        "total": amount,
    }


def checkout_session(
    rng: random.Random,
    created: int,
    cid: str,
    amount: int,
    currency: str,
    email,
    name,
    phone,
    addr,
    promotions: str | None,
) -> dict:
    cs = sid(rng, "cs_test_", 59).replace("cs_test_1", "cs_test_a1", 1)
    return {
        "id": cs,
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "consent": {"promotions": promotions, "terms_of_service": None},
        "consent_collection": {"promotions": "auto", "terms_of_service": "none"},
        "created": created,
        "currency": currency,
        "customer": cid,
        "customer_details": {
            "address": addr,
            "email": email,
            "name": name,
            "phone": phone,
            "tax_exempt": "none",
            "tax_ids": [],
        },
        "customer_email": None,
        "livemode": False,
        "metadata": {},
        "mode": "payment",
        "payment_intent": sid(rng, "pi_"),
        "payment_status": "paid",
        "status": "complete",
        "success_url": "https://shop.example.com/success",
        "url": None,
    }


def _uuid4(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def envelope(
    rng: random.Random, created: int, etype: str, obj: dict, previous: dict | None = None, api: bool = True
) -> dict:
    data: dict = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    request = (
        {"id": sid(rng, "req_", 14), "idempotency_key": _uuid4(rng)}
        if api
        else {"id": None, "idempotency_key": None}
    )
    return {
        "id": sid(rng, "evt_"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": request,
        "type": etype,
    }
