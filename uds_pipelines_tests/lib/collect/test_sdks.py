"""The real SDKs (segment-analytics-python, rudder-sdk-python) and an analytics.js-shaped browser
payload against a real uvicorn server: what they send lands, stamped with its source."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from segment.analytics import Client as SegmentClient
from segment.analytics.request import APIError

from uds_pipelines_tests.lib.collect.conftest import inbox_messages

STORED_FIELDS = {
    "type", "messageId", "source", "userId", "anonymousId", "event", "properties", "traits", "context",
    "timestamp", "originalTimestamp", "sentAt", "receivedAt",
}  # fmt: skip


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_segment_python_sdk_every_call_lands(start_collector) -> None:
    collector = start_collector()
    client = SegmentClient("wk_server", host=collector.url, sync_mode=True, gzip=True, max_retries=0)
    before = datetime.now(UTC)
    client.identify("u1", {"email": "ada@example.com", "plan": "pro"}, message_id="m-identify")
    client.track("u1", "Order Completed", {"revenue": 42.5, "currency": "EUR"}, message_id="m-track")
    client.page("u1", category="Docs", name="Pricing", properties={"path": "/pricing"}, message_id="m-page")
    client.screen("u1", name="Home", message_id="m-screen")
    client.group("u1", "acme", {"name": "Acme"}, message_id="m-group")
    client.alias("anon-9", "u1", message_id="m-alias")
    collector.stop()

    stored = {m["messageId"]: m for m in inbox_messages(collector.inbox)}
    assert set(stored) == {"m-identify", "m-track", "m-page", "m-screen", "m-group", "m-alias"}
    for message in stored.values():
        assert STORED_FIELDS <= set(message)
        assert message["source"] == "backend"
        assert "writeKey" not in message
        assert before - timedelta(seconds=1) <= _iso(message["receivedAt"]) <= datetime.now(UTC)
    assert stored["m-track"]["type"] == "track"
    assert stored["m-track"]["event"] == "Order Completed"
    assert stored["m-track"]["properties"] == {"revenue": 42.5, "currency": "EUR"}
    assert stored["m-track"]["context"]["library"]["name"] == "analytics-python"
    assert stored["m-identify"]["traits"] == {"email": "ada@example.com", "plan": "pro"}
    assert stored["m-page"]["name"] == "Pricing" and stored["m-page"]["category"] == "Docs"
    assert stored["m-group"]["groupId"] == "acme"
    assert stored["m-alias"]["previousId"] == "anon-9" and stored["m-alias"]["userId"] == "u1"


def test_segment_sdk_with_an_unknown_write_key_gets_401(start_collector) -> None:
    collector = start_collector()
    client = SegmentClient("wk_nope", host=collector.url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as raised:
        client.track("u1", "Signed Up")
    assert raised.value.status == 401
    collector.stop()
    assert inbox_messages(collector.inbox) == []


def test_rudderstack_sdk_lands_through_its_data_plane_url(start_collector) -> None:
    import rudderstack.analytics as rudder_analytics

    collector = start_collector()
    saved = {name: getattr(rudder_analytics, name) for name in ("write_key", "dataPlaneUrl", "sync_mode")}
    rudder_analytics.write_key = "wk_web"
    rudder_analytics.dataPlaneUrl = collector.url  # its documented setting; gzip is on by default
    rudder_analytics.sync_mode = True
    rudder_analytics.default_client = None
    try:
        rudder_analytics.track("u2", "Product Added", {"sku": "A-1", "price": 10})
        rudder_analytics.identify("u2", {"plan": "free"}, anonymous_id="anon-2")
    finally:
        rudder_analytics.default_client = None  # the module keeps its client: leave no state behind
        for name, value in saved.items():
            setattr(rudder_analytics, name, value)
    collector.stop()

    stored = inbox_messages(collector.inbox)
    assert [m["type"] for m in stored] == ["track", "identify"]
    assert all(m["source"] == "website" and m["userId"] == "u2" for m in stored)
    assert stored[0]["properties"] == {"sku": "A-1", "price": 10}
    assert stored[1]["anonymousId"] == "anon-2"
    assert len({m["messageId"] for m in stored}) == 2


def _browser_event(kind: str, **fields) -> dict:
    """What analytics.js (analytics-next) posts: writeKey in the body, sentAt, _metadata, context."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "type": kind,
        "anonymousId": "a7f3c9e2-browser",
        "messageId": f"ajs-next-{kind}-{fields.pop('n', 0)}",
        "timestamp": now,
        "sentAt": now,
        "writeKey": "wk_web",
        "integrations": {},
        "_metadata": {"bundled": ["Segment.io"], "unbundled": []},
        "context": {
            "page": {"path": "/cart", "url": "https://shop.example/cart", "title": "Cart"},
            "userAgent": "Mozilla/5.0",
            "library": {"name": "analytics.js", "version": "next-1.70.0"},
            "campaign": {"source": "newsletter", "medium": "email"},
        },
        **fields,
    }


def test_analytics_js_short_paths_with_cors(start_collector) -> None:
    collector = start_collector()
    origin = "https://shop.example"
    # Preflight as a browser sends it before a cross-origin POST with non-simple headers.
    preflight = requests.options(
        f"{collector.url}/v1/t",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,content-encoding",
        },
        timeout=5,
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "content-encoding"} <= {h.strip() for h in allowed.split(",")}

    # The standard dispatcher: one call per request to <apiHost>/<first letter>, as text/plain.
    headers = {"Origin": origin, "Content-Type": "text/plain"}
    page = _browser_event("page", name="Cart", properties={"path": "/cart"})
    track = _browser_event("track", event="Product Added", properties={"sku": "A-1"})
    for path, body in (("p", page), ("t", track)):
        response = requests.post(
            f"{collector.url}/v1/{path}", data=json.dumps(body), headers=headers, timeout=5
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True}
        assert response.headers["access-control-allow-origin"] == origin
    # The batching dispatcher: <apiHost>/b with the key at the top and in each event.
    batch = {
        "writeKey": "wk_web",
        "sentAt": datetime.now(UTC).isoformat(),
        "batch": [_browser_event("identify", n=1, userId="u3", traits={"plan": "pro"})],
    }
    response = requests.post(f"{collector.url}/v1/b", data=json.dumps(batch), headers=headers, timeout=5)
    assert response.status_code == 200, response.text
    collector.stop()

    stored = {m["type"]: m for m in inbox_messages(collector.inbox)}
    assert set(stored) == {"page", "track", "identify"}
    assert stored["track"]["context"]["campaign"] == {"source": "newsletter", "medium": "email"}
    assert stored["page"]["context"]["page"]["path"] == "/cart"
    assert stored["identify"]["userId"] == "u3"
    assert all(m["source"] == "website" and "writeKey" not in m for m in stored.values())
