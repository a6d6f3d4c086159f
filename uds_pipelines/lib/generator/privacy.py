"""Data-subject requests (erasure, access, consent) aimed at real people through one of their identifiers."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from uds_pipelines.lib.generator.people import Person
from uds_pipelines.lib.generator.truth import LAND, QUARANTINE, Truth
from uds_pipelines.lib.generator.variants import email_variant, phone_variant
from uds_pipelines.lib.generator.writer import Inbox

PURPOSES = ["email_marketing", "sms_marketing", "ad_targeting", "analytics"]
ROWS_PER_FILE = 5000


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _identifier(
    rng: random.Random, person: Person, customer_ids: list[str], allow_customer: bool
) -> tuple[str, str]:
    roll = rng.random()
    if allow_customer and customer_ids and roll < 0.15:
        # A Stripe customer id quoted by the person, e.g. from a receipt.
        return "customer_id", rng.choice(customer_ids)
    if roll < 0.7:
        return "email", email_variant(rng, person)[0]
    return "phone", phone_variant(rng, person)[0]


def write_privacy(
    rng: random.Random,
    inbox: Inbox,
    truth: Truth,
    requests: list[tuple[str, Person, int]],
    customer_ids: dict[str, list[str]],
) -> int:
    """Write `(type, person, unix time)` requests as JSONL, plus a few malformed lines."""
    lines: list[tuple[str, str | None, str | None, str, str]] = []
    consents = []
    for rtype, person, ts in sorted(requests, key=lambda r: (r[2], r[1].person_id)):
        request_id = f"dsr_{rng.getrandbits(48):012x}"
        id_type, value = _identifier(rng, person, customer_ids.get(person.person_id, []), rtype != "erasure")
        body: dict = {"request_id": request_id, "type": rtype, id_type: value, "received_at": _iso(ts)}
        note = f"{rtype} by {id_type}"
        if rtype == "consent":
            purpose = rng.choice(PURPOSES)
            granted = rng.random() < 0.25
            body.update(purpose=purpose, granted=granted)
            consents.append((person.person_id, id_type, value, purpose, granted, ts, request_id))
        lines.append((json.dumps(body, ensure_ascii=False), request_id, person.person_id, LAND, note))
    if requests:
        _, person, ts = requests[0]
        bad = [
            (
                {
                    "request_id": f"dsr_{rng.getrandbits(48):012x}",
                    "type": "delete_everything",
                    "email": person.email,
                    "received_at": _iso(ts),
                },
                "unknown request type",
            ),
            (
                {"request_id": f"dsr_{rng.getrandbits(48):012x}", "type": "access", "received_at": _iso(ts)},
                "request without email, phone or customer_id",
            ),
            (
                {
                    "request_id": f"dsr_{rng.getrandbits(48):012x}",
                    "type": "consent",
                    "email": person.email,
                    "received_at": "last tuesday",
                    "purpose": "email_marketing",
                    "granted": False,
                },
                "wrong type: received_at is not a timestamp",
            ),
        ]
        for k, (body, note) in enumerate(bad):
            text = json.dumps(body, ensure_ascii=False)
            lines.insert(
                min(len(lines), 3 + k * 7), (text, body["request_id"], person.person_id, QUARANTINE, note)
            )
    for part in range(0, len(lines), ROWS_PER_FILE):
        chunk = lines[part : part + ROWS_PER_FILE]
        rel = f"privacy/requests_{part // ROWS_PER_FILE + 1:03d}.jsonl"
        for pos, (_, request_id, person_id, expected, note) in enumerate(chunk, start=1):
            truth.record("privacy_request", request_id, person_id, rel, pos, expected, note)
        inbox.write_text(rel, "".join(text + "\n" for text, *_ in chunk))
        in_chunk = {c[1] for c in chunk}
        for person_id, id_type, value, purpose, granted, ts, request_id in consents:
            if request_id in in_chunk:
                at = datetime.fromtimestamp(ts, tz=UTC)
                truth.consent(person_id, id_type, value, purpose, granted, at, "privacy", request_id, rel)
    return len(lines)
