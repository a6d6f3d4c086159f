"""Message checks without a server: clock-skew arithmetic, normalization, write keys, Basic auth."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime, timedelta

import pytest

from uds_pipelines.lib.collect.auth import WriteKeyError, basic_user, parse_write_keys
from uds_pipelines.lib.collect.messages import (
    BadRequest,
    Payload,
    TooLarge,
    corrected_timestamp,
    decompress,
    normalize,
    parse_payload,
)

RECEIVED = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)


def test_clock_skew_moves_the_device_gap_onto_our_clock() -> None:
    # Device clock 1 h slow: it says the event was at 10:59:50 and the send at 11:00:00.
    original = datetime(2026, 12, 6, 10, 59, 50, tzinfo=UTC)
    sent_at = datetime(2026, 12, 6, 11, 0, 0, tzinfo=UTC)
    assert corrected_timestamp(RECEIVED, sent_at, original) == RECEIVED - timedelta(seconds=10)
    assert corrected_timestamp(RECEIVED, None, original) == original  # no sentAt: kept as given
    assert corrected_timestamp(RECEIVED, sent_at, None) == RECEIVED  # no timestamp: when received


def test_normalize_fills_the_stored_fields() -> None:
    payload = Payload(
        [],
        sent_at="2026-12-06T11:00:05+00:00",
        context={"ip": "203.0.113.9", "locale": "en"},
        integrations={"All": True},
    )
    message = {
        "type": "page", "anonymousId": 42, "name": "Home", "writeKey": "wk",
        "timestamp": "2026-12-06T11:00:00Z", "context": {"locale": "fr"},
    }  # fmt: skip
    out = normalize(message, "batch[0]", payload, "website", RECEIVED)
    assert out["timestamp"] == "2026-12-06T11:59:55.000Z"
    assert out["originalTimestamp"] == "2026-12-06T11:00:00.000Z"
    assert out["sentAt"] == "2026-12-06T11:00:05.000Z"
    assert out["receivedAt"] == "2026-12-06T12:00:00.000Z"
    assert out["anonymousId"] == "42" and out["userId"] is None
    assert out["context"] == {"ip": "203.0.113.9", "locale": "fr"}  # the message's own context wins
    assert out["integrations"] == {"All": True}
    assert out["name"] == "Home" and out["source"] == "website"
    assert "writeKey" not in out
    assert len(out["messageId"]) == 36  # generated when the call had none
    # The message's own sentAt wins over the batch's; originalTimestamp wins over timestamp.
    own = {**message, "sentAt": "2026-12-06T11:00:00Z", "originalTimestamp": "2026-12-06T10:59:00Z"}
    assert normalize(own, "m", payload, "website", RECEIVED)["timestamp"] == "2026-12-06T11:59:00.000Z"


def test_single_call_paths_take_their_type_from_the_path() -> None:
    payload = parse_payload(b'{"type": "identify", "userId": "u", "event": "E", "writeKey": "k"}', "track")
    assert payload.messages[0]["type"] == "track" and payload.write_key == "k"


def test_decompress_refuses_bombs_and_unknown_encodings() -> None:
    assert decompress(gzip.compress(b"{}"), "gzip") == b"{}"
    with pytest.raises(TooLarge):
        decompress(gzip.compress(b" " * (2 * 1024 * 1024)), "gzip")
    with pytest.raises(BadRequest, match="Content-Encoding"):
        decompress(b"{}", "br")


def test_write_keys_parse_with_sources_and_refuse_bad_entries() -> None:
    assert parse_write_keys(" k1:web , k2 ,,k3:ios.app ") == {"k1": "web", "k2": "default", "k3": "ios.app"}
    assert parse_write_keys(None) == {} and parse_write_keys("  ") == {}
    for raw in ("k1:web,k1:ios", "k1:bad name", ":web"):
        with pytest.raises(WriteKeyError, match="UDS_WRITE_KEYS") as raised:
            parse_write_keys(raw)
        assert "k1" not in str(raised.value)  # keys never echoed


def test_basic_user_reads_the_write_key() -> None:
    token = base64.b64encode(b"wk_1:").decode()
    assert basic_user(f"Basic {token}") == "wk_1"
    assert basic_user(f"basic {token}") == "wk_1"
    for header in (None, "", "Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b":pw").decode()):
        assert basic_user(header) is None
