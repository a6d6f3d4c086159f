"""Fuzz: the receiver's body handling answers every hostile body with an event or a short reason."""

from __future__ import annotations

import json

from hypothesis import given

from uds_pipelines.lib.webhooks.app import parse_event
from uds_pipelines_tests.lib.ingest.fuzz_inputs import FUZZ, hostile_files, nested_or_numeric, seeds

STRIPE_BODIES = seeds(
    "stripe/evt_*.json", "stripe/openapi_fixture_event.json", "stripe/stripe_cli_triggers/*.json"
)
REASON_CHARS = 80


@FUZZ
@given(body=hostile_files(STRIPE_BODIES) | nested_or_numeric(STRIPE_BODIES))
def test_a_hostile_body_is_an_event_or_a_short_reason(body: bytes) -> None:
    try:
        event = parse_event(body)
    except ValueError as exc:  # the receiver answers 400 with this text
        reason = str(exc)
        assert reason.startswith(("body is not", "event ", "object is not")) and len(reason) <= REASON_CHARS
        return
    # Accepted: what the receiver then stores must be one UTF-8 JSON line that reads back the same.
    line = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert b"\n" not in line and json.loads(line) == event
    json.dumps(event, allow_nan=False)  # raises if an Infinity or NaN could reach the inbox
