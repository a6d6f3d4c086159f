"""The receiver over real HTTP: verification, size limits, durability and concurrency."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from uds_pipelines.lib.webhooks.signature import compute_signature, sign_header
from uds_pipelines_tests.lib.webhooks.helpers import inbox_events


def _event(i: int = 1, email: str = "jane.doe@example.com") -> bytes:
    event = {
        "id": f"evt_{i:04d}",
        "object": "event",
        "type": "customer.created",
        "created": 1_760_000_000 + i,
        "data": {"object": {"id": f"cus_{i}", "object": "customer", "email": email}},
    }
    # Stripe sends pretty-printed JSON; the receiver must store it as one compact line.
    return json.dumps(event, indent=2).encode()


def _post(url: str, body: bytes, header: str | None, **kwargs) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return requests.post(f"{url}/webhooks/stripe", data=body, headers=headers, timeout=10, **kwargs)


def _files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_healthz(start_receiver) -> None:
    receiver = start_receiver()
    response = requests.get(f"{receiver.url}/healthz", timeout=5)
    assert response.status_code == 200


def test_valid_event_reaches_inbox_after_age_rotation(start_receiver, caplog) -> None:
    receiver = start_receiver(spool_max_age_seconds=0.2, check_interval_seconds=0.05)
    body = _event(1)
    with caplog.at_level(logging.INFO, logger="uds_pipelines.webhooks"):
        response = _post(receiver.url, body, sign_header(body, "whsec_test"))
        assert response.status_code == 200
        assert response.json()["id"] == "evt_0001"
        assert _wait_for(lambda: len(inbox_events(receiver.inbox)) == 1)
    stored = list(receiver.inbox.glob("webhook-*.jsonl"))
    assert len(stored) == 1
    assert stored[0].read_text().count("\n") == 1
    assert inbox_events(receiver.inbox) == [json.loads(body)]
    assert "evt_0001" in caplog.text and "customer.created" in caplog.text
    assert "jane.doe" not in caplog.text and "example.com" not in caplog.text


def test_rotated_secret_and_second_v1(start_receiver) -> None:
    receiver = start_receiver(secrets=("whsec_new", "whsec_old"))
    body_old = _event(1)
    assert _post(receiver.url, body_old, sign_header(body_old, "whsec_old")).status_code == 200
    body_multi = _event(2)
    ts = int(time.time())
    header = f"t={ts},v1={compute_signature(body_multi, ts, 'whsec_other')},v1={compute_signature(body_multi, ts, 'whsec_new')}"
    assert _post(receiver.url, body_multi, header).status_code == 200
    receiver.stop()  # graceful shutdown publishes the spool
    assert sorted(e["id"] for e in inbox_events(receiver.inbox)) == ["evt_0001", "evt_0002"]
    assert _files_under(receiver.spool_dir) == []


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong_signature", 400),
        ("stale_timestamp", 400),
        ("missing_header", 400),
        ("malformed_header", 400),
        ("not_json", 400),
        ("json_without_id", 400),
        ("json_list", 400),
        ("too_large", 413),
        ("too_large_chunked", 413),
    ],
)
def test_rejections_write_nothing(start_receiver, case: str, status: int) -> None:
    receiver = start_receiver()
    body = _event(1)
    header: str | None = sign_header(body, "whsec_test")
    data: object = body
    if case == "wrong_signature":
        header = sign_header(body, "whsec_wrong")
    elif case == "stale_timestamp":
        header = sign_header(body, "whsec_test", int(time.time()) - 301)
    elif case == "missing_header":
        header = None
    elif case == "malformed_header":
        header = "v1=deadbeef"
    elif case in ("not_json", "json_without_id", "json_list"):
        data = {
            "not_json": b"not json at all",
            "json_without_id": b'{"object":"event"}',
            "json_list": b"[1]",
        }[case]
        header = sign_header(data, "whsec_test")
    elif case == "too_large":
        data = b"{" + b" " * (2 * 1024 * 1024) + b"}"
        header = sign_header(data, "whsec_test")
    elif case == "too_large_chunked":
        chunks = [b"x" * 65536] * 32  # no Content-Length: the streamed size must be checked
        data = iter(chunks)
        header = "t=1,v1=00"
    response = _post(receiver.url, data, header)  # type: ignore[arg-type]
    assert response.status_code == status
    assert response.json()["error"]
    receiver.stop()
    assert _files_under(receiver.inbox) == []
    assert _files_under(receiver.spool_dir) == []


def test_concurrent_posts_land_exactly_once(start_receiver) -> None:
    receiver = start_receiver(spool_max_age_seconds=3600)
    bodies = [_event(i) for i in range(50)]

    def post(body: bytes) -> int:
        return _post(receiver.url, body, sign_header(body, "whsec_test")).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(post, bodies))
    assert statuses == [200] * 50
    receiver.stop()
    ids = [e["id"] for e in inbox_events(receiver.inbox)]
    assert sorted(ids) == sorted(f"evt_{i:04d}" for i in range(50))
    assert len(ids) == len(set(ids))
