"""Small hand-written Segment messages (shapes of the Track, Identify, Alias and E-commerce v2 specs)
for the events identity and computed-trait tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def _base(kind: str, minutes: float, user: str | None, anon: str | None) -> dict:
    msg = {
        "type": kind,
        "messageId": f"msg-{next(_ids):06d}",
        "timestamp": at(minutes),
        "context": {"library": {"name": "analytics.js", "version": "2.11.1"}},
    }
    if user is not None:
        msg["userId"] = user
    if anon is not None:
        msg["anonymousId"] = anon
    return msg


def track(
    event: str, minutes: float, *, user: str | None = None, anon: str | None = None, **properties
) -> dict:
    return _base("track", minutes, user, anon) | {"event": event, "properties": properties}


def identify(minutes: float, user: str, anon: str | None = None, **traits) -> dict:
    return _base("identify", minutes, user, anon) | {"traits": traits}


def alias(minutes: float, previous: str, user: str) -> dict:
    return _base("alias", minutes, user, None) | {"previousId": previous}


def order(
    minutes: float, order_id: str, revenue: float, *, user: str | None = None, anon: str | None = None
) -> dict:
    """E-commerce v2 "Order Completed" with one product."""
    return track(
        "Order Completed", minutes, user=user, anon=anon, order_id=order_id, revenue=revenue, total=revenue,
        currency="USD", products=[{"product_id": "p1", "sku": "SKU-1", "price": revenue, "quantity": 1}],
    )  # fmt: skip


def product(event: str, minutes: float, *, user: str | None = None, anon: str | None = None, **extra) -> dict:
    """E-commerce v2 "Product Viewed" / "Product Added" with a product's properties."""
    fields = {"product_id": "p1", "sku": "SKU-1", "category": "Games", "name": "Monopoly", "price": 18.99}
    return track(event, minutes, user=user, anon=anon, **(fields | extra))
