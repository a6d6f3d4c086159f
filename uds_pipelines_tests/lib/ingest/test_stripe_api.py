"""Events API catch-up against a real Stripe-shaped HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.ingest.stripe_api import (
    MISSING_KEY_REASON,
    StripeApiError,
    catch_up_window,
    fetch_events,
    landed_event_ids,
    newest_landed_created,
    skip_reason,
    write_events_jsonl,
)

API_KEY = "sk_test_secretkey123"
BASE_CREATED = 1_760_000_000


def make_events() -> list[dict]:
    """250 events; 120 share the newest `created` second, so the 100-event page boundary cuts the burst."""
    events = []
    for i in range(250):
        created = BASE_CREATED + (5000 if 60 <= i < 180 else i)
        events.append(
            {"id": f"evt_{i:05d}", "object": "event", "type": "customer.updated", "created": created}
        )
    return events


@dataclass
class FakeStripe:
    events: list[dict]
    # page number (1-based) -> list of faults to serve, one per request, before the real page
    faults: dict[int, list[str]] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    url: str = ""

    def ordered(self, gte: int) -> list[dict]:
        # Stripe lists newest first; same-second events keep a fixed order (here: id descending).
        kept = [e for e in self.events if e["created"] >= gte]
        return sorted(kept, key=lambda e: (e["created"], e["id"]), reverse=True)


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            fake.requests.append({"path": parsed.path, **query})
            if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                self._send(
                    401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
                )
                return
            if parsed.path != "/v1/events":
                self._send(404, {"error": {"message": "Unrecognized request URL"}})
                return
            try:
                gte = int(query["created[gte]"])
                limit = int(query.get("limit", "10"))
            except (KeyError, ValueError):
                self._send(400, {"error": {"message": "Invalid integer: created[gte]", "param": "created"}})
                return
            ordered = fake.ordered(gte)
            start = 0
            if "starting_after" in query:
                ids = [e["id"] for e in ordered]
                start = ids.index(query["starting_after"]) + 1
            page_no = start // limit + 1
            pending = fake.faults.get(page_no, [])
            if pending:
                fault = pending.pop(0)
                if fault == "429":
                    self._send(429, {"error": {"message": "Too many requests"}}, {"Retry-After": "0"})
                elif fault == "500":
                    self._send(500, {"error": {"message": "Internal error"}})
                elif fault == "drop":
                    self.close_connection = True  # no answer at all: a connection error for the client
                return
            data = ordered[start : start + limit]
            self._send(
                200,
                {
                    "object": "list",
                    "url": "/v1/events",
                    "has_more": start + limit < len(ordered),
                    "data": data,
                },
            )

    return Handler


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe(make_events())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


def test_paginates_through_same_second_burst_with_faults(fake_stripe: FakeStripe) -> None:
    fake_stripe.faults = {2: ["429"], 3: ["500", "drop"]}
    sleeps: list[float] = []
    events = list(
        fetch_events(fake_stripe.url, API_KEY, BASE_CREATED, sleep=sleeps.append, backoff_base=0.01)
    )
    ids = [e["id"] for e in events]
    assert len(ids) == 250 == len(set(ids))
    assert set(ids) == {e["id"] for e in make_events()}
    # Newest first, as Stripe serves them.
    assert [e["created"] for e in events] == sorted((e["created"] for e in events), reverse=True)
    # 3 pages of 100 plus one retry each for the 429, the 500 and the dropped connection.
    assert len(fake_stripe.requests) == 6
    assert sleeps[0] == 0.0  # Retry-After: 0 honoured
    assert len(sleeps) == 3 and all(0 <= s <= 0.04 for s in sleeps[1:])
    assert all(r["limit"] == "100" and r["created[gte]"] == str(BASE_CREATED) for r in fake_stripe.requests)
    assert "starting_after" not in fake_stripe.requests[0]
    assert fake_stripe.requests[-1]["starting_after"] == ids[199]


def test_filters_by_created_gte(fake_stripe: FakeStripe) -> None:
    gte = BASE_CREATED + 200
    events = list(fetch_events(fake_stripe.url, API_KEY, gte, sleep=lambda s: None, page_limit=7))
    assert {e["id"] for e in events} == {e["id"] for e in make_events() if e["created"] >= gte}
    assert len(events) == len({e["id"] for e in events})


def test_wrong_key_raises_without_leaking_it(fake_stripe: FakeStripe) -> None:
    with pytest.raises(StripeApiError) as info:
        list(fetch_events(fake_stripe.url, "sk_test_wrong_key_999", BASE_CREATED, sleep=lambda s: None))
    assert info.value.status == 401
    assert "401" in str(info.value) and "Invalid API Key provided" in str(info.value)
    assert "sk_test_wrong_key_999" not in str(info.value)
    assert len(fake_stripe.requests) == 1  # not retried


def test_gives_up_after_max_retries(fake_stripe: FakeStripe) -> None:
    fake_stripe.faults = {1: ["500"] * 10}
    sleeps: list[float] = []
    with pytest.raises(StripeApiError, match="after 3 attempts: status 500"):
        list(fetch_events(fake_stripe.url, API_KEY, BASE_CREATED, max_retries=2, sleep=sleeps.append))
    assert len(sleeps) == 2
    assert len(fake_stripe.requests) == 3


def test_connection_refused_is_retried_then_reported() -> None:
    sleeps: list[float] = []
    with pytest.raises(StripeApiError, match="connection error"):
        list(fetch_events("http://127.0.0.1:9", API_KEY, 0, max_retries=1, sleep=sleeps.append))
    assert len(sleeps) == 1


def test_skip_reason() -> None:
    assert skip_reason(None) == MISSING_KEY_REASON
    assert skip_reason("") == MISSING_KEY_REASON
    assert skip_reason("sk_test_x") is None
    assert MISSING_KEY_REASON == "UDS_STRIPE_API_KEY is not set: Events API catch-up skipped"


@pytest.mark.parametrize(
    ("newest", "expected"),
    [
        (None, 10_000_000 - 30 * 86400),
        (9_999_000, 9_999_000 - 86400),
        (10_000_000 - 40 * 86400, 10_000_000 - 30 * 86400),
        (10_000_500, 10_000_000 - 86400),  # a landed event "from the future" does not skip today
    ],
)
def test_catch_up_window(newest: int | None, expected: int) -> None:
    assert catch_up_window(newest, 10_000_000) == expected


def test_write_events_jsonl_dedups_and_renames_atomically(tmp_path: Path) -> None:
    inbox = tmp_path / "data" / "inbox"
    events = make_events()[:10] + [make_events()[3]]
    path, written, skipped = write_events_jsonl(events, inbox, known_event_ids={"evt_00000", "evt_00001"})
    assert path is not None and path.parent == inbox / "stripe"
    assert path.name.startswith("events-api-") and path.suffix == ".jsonl"
    # Two known ids and one repeat within the batch are skipped.
    assert (written, skipped) == (8, 3)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["id"] for e in lines] == [f"evt_{i:05d}" for i in range(2, 10)]
    assert lines[0] == make_events()[2]
    assert list((inbox / "stripe").iterdir()) == [path]
    assert list((tmp_path / "data" / "spool" / "stripe_api").iterdir()) == []
    # Nothing new: no empty file appears.
    assert write_events_jsonl(lines, inbox / "stripe", known_event_ids={e["id"] for e in lines}) == (
        None,
        0,
        8,
    )
    assert list((inbox / "stripe").iterdir()) == [path]


def test_landed_state_from_lake(tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    assert newest_landed_created(lake_dir) is None
    assert landed_event_ids(lake_dir, 0) == set()
    frame = pd.DataFrame(
        {
            "event_id": ["evt_a", "evt_b", "evt_c"],
            "created": pd.to_datetime(
                [BASE_CREATED, BASE_CREATED + 50, BASE_CREATED + 100], unit="s", utc=True
            ),
        }
    )
    lake.write_parquet_atomic(frame, lake_dir / catalog.table("landed_stripe").path / "batch-1.parquet")
    assert newest_landed_created(lake_dir) == BASE_CREATED + 100
    assert landed_event_ids(lake_dir, BASE_CREATED + 50) == {"evt_b", "evt_c"}
