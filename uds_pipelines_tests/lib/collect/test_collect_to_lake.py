"""The real Segment SDK -> uds-collect -> the events landing: what the SDK sent is in the lake's
`events` table once, with its source, typed, and a retried batch is still one row per message."""

from __future__ import annotations

import duckdb
import requests
from segment.analytics import Client as SegmentClient

from uds_pipelines.lib import lake_views
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.ingest.events.stage import land_events


def test_sdk_events_land_in_the_lake_through_the_collector(start_collector) -> None:
    collector = start_collector()
    client = SegmentClient("wk_web", host=collector.url, sync_mode=True, max_retries=0)
    client.identify("u1", {"email": "ada@example.com"}, message_id="m-1")
    client.track(
        "u1", "Order Completed", {"order_id": "o1", "total": 42.5, "currency": "EUR"}, message_id="m-2"
    )
    client.page(anonymous_id="anon-1", name="Pricing", properties={"path": "/pricing"}, message_id="m-3")
    client.track(
        "u1", "Order Completed", {"order_id": "o1", "total": 42.5, "currency": "EUR"}, message_id="m-2"
    )
    collector.stop()

    settings = Settings.from_env({"UDS_DATA_DIR": str(collector.data_dir)})
    summary = land_events(settings).summary
    assert (summary.records_landed, summary.records_quarantined) == (3, 0)
    con = duckdb.connect()
    lake_views.register(con, settings.lake_dir, ["events"])
    rows = con.execute(
        "SELECT message_id, type, event, user_id, anonymous_id, source, page_path FROM events ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("m-1", "identify", None, "u1", None, "website", None),
        ("m-2", "track", "Order Completed", "u1", None, "website", None),
        ("m-3", "page", None, None, "anon-1", "website", "/pricing"),
    ]


def test_a_bad_call_in_a_batch_lands_in_quarantine_with_the_collectors_reason(start_collector) -> None:
    collector = start_collector()
    batch = {
        "batch": [
            {"type": "track", "userId": "u1", "event": "Product Added", "messageId": "good"},
            {"type": "track", "event": "Product Added", "messageId": "anonymous-nobody"},
        ]
    }
    answer = requests.post(f"{collector.url}/v1/batch", json=batch, auth=("wk_web", ""), timeout=10)
    assert answer.status_code == 200
    collector.stop()

    settings = Settings.from_env({"UDS_DATA_DIR": str(collector.data_dir)})
    summary = land_events(settings).summary
    assert (summary.records_read, summary.records_landed, summary.records_quarantined) == (2, 1, 1)
    con = duckdb.connect()
    lake_views.register(con, settings.lake_dir, ["events", "quarantine"])
    assert con.execute("SELECT message_id FROM events").fetchall() == [("good",)]
    reason, raw = con.execute("SELECT reason, raw FROM quarantine WHERE source = 'event'").fetchone()
    assert reason == "refused by uds-collect: batch[1] has neither userId nor anonymousId at line 2"
    assert '"messageId":"anonymous-nobody"' in raw
