"""Ground truth of the generated sessions: who is behind each event id, and whose cart is abandoned.

The cart rule (the `cart_abandoned_at` trait, docs/traits.md): a person's cart is abandoned as of
the end date when no "Order Completed" came at or after their last "Product Added" and an hour has
passed since it: a late order (hours later) recovers the cart. Only
people who signed up count: an anonymous visitor's cart belongs to nobody the pipeline can know.
Their "Product Added" events before sign-up count too (the pipeline attributes them to the person
once the sign-up ties their device to the user).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from uds_pipelines.lib.generator.people import Person

ABANDON_AFTER_MS = 3600_000
EVENT_PEOPLE_SCHEMA = pa.schema(
    [("id_type", pa.string()), ("id", pa.string()), ("person_id", pa.string()), ("identifiable", pa.bool_())]
)
ABANDONERS_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("user_id", pa.string()),
        ("email", pa.string()),
        ("last_added_at", pa.timestamp("ms", tz="UTC")),
    ]
)


@dataclass
class SessionTruth:
    end_ts: int
    devices: dict[str, set[str]] = field(default_factory=dict)  # anonymousId -> person ids
    users: dict[str, str] = field(default_factory=dict)  # userId -> person id
    adds: dict[str, list[int]] = field(default_factory=dict)  # person id -> "Product Added" times (ms)
    orders: dict[str, list[int]] = field(default_factory=dict)  # person id -> "Order Completed" times

    def device(self, anonymous_id: str, person_id: str, user_id: str | None) -> None:
        self.devices.setdefault(anonymous_id, set()).add(person_id)
        if user_id:
            self.users[user_id] = person_id

    def added(self, person_id: str, ms: int) -> None:
        self.adds.setdefault(person_id, []).append(ms)

    def ordered(self, person_id: str, ms: int) -> None:
        self.orders.setdefault(person_id, []).append(ms)

    def event_people(self) -> pa.Table:
        """One row per userId and anonymousId: its person (none for a shared device), and whether the
        events can tell (an anonymous id is tied to its person once they sign up on it)."""
        known = set(self.users.values())
        rows = [("user", u, p, True) for u, p in self.users.items()]
        for anon, people in self.devices.items():
            only = next(iter(people)) if len(people) == 1 else None
            rows.append(("anon", anon, only, only is not None and only in known))
        return pa.table(
            list(map(list, zip(*rows, strict=True))) if rows else [[], [], [], []], schema=EVENT_PEOPLE_SCHEMA
        )

    def abandoners(self, people: list[Person]) -> pa.Table:
        by_id = {p.person_id: p for p in people}
        user_of = {p: u for u, p in self.users.items()}
        end_ms = self.end_ts * 1000
        rows = []
        for person_id, adds in self.adds.items():
            last = max(adds)
            window = (last, last + ABANDON_AFTER_MS)
            if person_id not in user_of or window[1] > end_ms:
                continue
            if any(t >= window[0] for t in self.orders.get(person_id, [])):
                continue
            rows.append((person_id, user_of[person_id], by_id[person_id].email, last))
        rows.sort()
        columns = list(map(list, zip(*rows, strict=True))) if rows else [[], [], [], []]
        return pa.table(columns, schema=ABANDONERS_SCHEMA)
