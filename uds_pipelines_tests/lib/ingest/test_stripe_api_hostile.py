"""Hostile Events API pages: a clear StripeApiError or events passed on for landing to judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from uds_pipelines.lib.ingest.stripe_api import StripeApiError, fetch_events, write_events_jsonl
from uds_pipelines.lib.ingest.stripe_files import land_stripe_files

REAL_EVENT = (
    Path(__file__).parents[3] / "data" / "samples" / "inbox" / "stripe" / "evt_16NE7xzyucBlP7CwQS7XrXfp.json"
)


class OnePageSession:
    """Answers every GET with the same 200 body (a `requests.Session` stand-in)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def get(self, url: str, **kwargs) -> requests.Response:
        response = requests.Response()
        response.status_code, response._content, response.url = 200, self.body, url
        return response


def _fetch(body: bytes) -> list[dict]:
    session = OnePageSession(body)
    return list(fetch_events("https://api.example", "sk_test_x", 0, session=session))  # type: ignore[arg-type]


def test_deeply_nested_page_is_an_api_error_not_a_recursion_error() -> None:
    with pytest.raises(StripeApiError) as caught:
        _fetch(b'{"object": "list", "data": ' + b"[" * 100_000)
    assert str(caught.value) == (
        "Stripe API GET /v1/events answered 200 with unusable JSON: JSON nested too deeply to read"
    )


def test_duplicate_keys_keep_the_first_value() -> None:
    event = REAL_EVENT.read_text().replace('"id": "evt_', '"id": "evt_first", "id": "evt_', 1)
    [fetched] = _fetch(('{"object": "list", "has_more": false, "data": [' + event + "]}").encode())
    assert fetched["id"] == "evt_first"


def test_an_event_with_a_number_out_of_range_is_passed_on_and_quarantined_at_landing(tmp_path) -> None:
    good = REAL_EVENT.read_text()
    bad = good.replace('"id": "evt_16NE7xzyucBlP7CwQS7XrXfp"', '"id": "evt_bad"').replace(
        '"created": 1763062119', '"created": 1e400', 1
    )
    page = '{"object": "list", "has_more": false, "data": [' + bad + ", " + good + "]}"
    events = _fetch(page.encode())
    path, written, _ = write_events_jsonl(events, tmp_path / "inbox")
    assert written == 2 and path is not None
    result = land_stripe_files([path], tmp_path / "lake")
    assert result.records_landed == 1 and result.conserved
    assert [(q.position, q.reason) for q in result.quarantine] == [
        (1, "non-standard JSON number at line 1: $.data.object.created")
    ]
    assert json.loads(path.read_text().splitlines()[1])["id"] == "evt_16NE7xzyucBlP7CwQS7XrXfp"


def test_an_event_with_a_lone_surrogate_is_passed_on_and_quarantined_at_landing(tmp_path) -> None:
    good = REAL_EVENT.read_text()
    bad = good.replace('"id": "evt_16NE7xzyucBlP7CwQS7XrXfp"', '"id": "evt_bad", "name": "\\ud800"')
    page = '{"object": "list", "has_more": false, "data": [' + good + ", " + bad + "]}"
    path, written, _ = write_events_jsonl(_fetch(page.encode()), tmp_path / "inbox")
    assert written == 2 and path is not None
    result = land_stripe_files([path], tmp_path / "lake")
    assert result.records_landed == 1 and result.conserved
    assert [(q.position, q.reason) for q in result.quarantine] == [
        (2, "invalid JSON at line 2: unpaired surrogate in a string")
    ]
