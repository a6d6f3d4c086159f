"""Hostile but correctly signed bodies: a short 400, never a 500, and nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from uds_pipelines.lib.webhooks.app import parse_event
from uds_pipelines.lib.webhooks.signature import sign_header
from uds_pipelines_tests.lib.webhooks.helpers import inbox_events

REAL_EVENT = (
    Path(__file__).parents[3] / "data" / "samples" / "inbox" / "stripe" / "evt_16NE7xzyucBlP7CwQS7XrXfp.json"
)


def _real_body(replace: tuple[str, str] | None = None) -> bytes:
    text = REAL_EVENT.read_text()
    if replace:
        assert replace[0] in text
        text = text.replace(replace[0], replace[1], 1)
    return text.encode()


HOSTILE = {
    "deep_nesting": (b"[" * 100_000, "body is not usable JSON: JSON nested too deeply to read"),
    "number_out_of_range": (
        _real_body(('"created": 1763062119', '"created": 1e400')),
        "body is not usable JSON: number out of range",
    ),
    "nan": (
        _real_body(('"created": 1763062119', '"created": NaN')),
        "body is not usable JSON: non-standard JSON number",
    ),
    "huge_integer": (
        _real_body(('"created": 1763062119', '"created": ' + "9" * 5000)),
        "body is not usable JSON: number out of range",
    ),
    "truncated": (_real_body()[:200], "body is not valid JSON"),
    "not_utf8": (b'{"id": "evt_\xff"}', "body is not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_parse_event_gives_a_short_reason(case: str) -> None:
    body, reason = HOSTILE[case]
    with pytest.raises(ValueError) as caught:
        parse_event(body)
    assert str(caught.value) == reason


def test_duplicate_keys_keep_the_first_value() -> None:
    body = _real_body(('"id": "evt_16NE7xzyucBlP7CwQS7XrXfp"', '"id": "evt_first", "id": "evt_second"'))
    assert parse_event(body)["id"] == "evt_first"


@pytest.mark.parametrize("case", ["deep_nesting", "number_out_of_range"])
def test_receiver_answers_400_and_stores_nothing(start_receiver, case: str) -> None:
    receiver = start_receiver()
    body, reason = HOSTILE[case]
    response = requests.post(
        f"{receiver.url}/webhooks/stripe",
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": sign_header(body, "whsec_test")},
        timeout=10,
    )
    assert (response.status_code, response.json()) == (400, {"error": reason})
    good = _real_body()
    ok = requests.post(
        f"{receiver.url}/webhooks/stripe",
        data=good,
        headers={"Stripe-Signature": sign_header(good, "whsec_test")},
        timeout=10,
    )
    assert ok.status_code == 200
    receiver.stop()
    assert inbox_events(receiver.inbox) == [json.loads(good)]
