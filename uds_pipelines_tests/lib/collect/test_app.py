"""The collector over real HTTP: auth, gzip, limits, reasons, de-duplication, clock skew, CORS,
durability at shutdown, file modes and logs."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import stat
import threading
from datetime import UTC, datetime, timedelta

import requests

from uds_pipelines_tests.lib.collect.conftest import inbox_messages


def _basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def _track(n: int, **fields) -> dict:
    return {"type": "track", "userId": f"u{n}", "event": "Order Completed", "messageId": f"m{n}", **fields}


def _post(url: str, path: str, body, headers=None, **kwargs) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(f"{url}/v1/{path}", data=data, headers=headers or {}, timeout=10, **kwargs)


def test_write_key_as_basic_user_or_in_the_body_each_naming_its_source(start_collector) -> None:
    collector = start_collector()
    assert _post(collector.url, "batch", {"batch": [_track(1)]}, _basic("wk_server")).status_code == 200
    assert _post(collector.url, "track", {**_track(2), "writeKey": "wk_web"}).status_code == 200
    collector.stop()
    assert {m["messageId"]: m["source"] for m in inbox_messages(collector.inbox)} == {
        "m1": "backend",
        "m2": "website",
    }


def test_bad_or_missing_write_key_is_401_and_stores_nothing(start_collector) -> None:
    collector = start_collector()
    bad = _post(collector.url, "batch", {"batch": [_track(1)]}, _basic("wk_wrong"))
    assert bad.status_code == 401
    assert bad.json() == {"success": False, "code": "unauthorized", "message": "unknown write key"}
    assert _post(collector.url, "track", {**_track(2), "writeKey": "nope"}).status_code == 401
    assert _post(collector.url, "batch", b"{not json", _basic("wk_wrong")).status_code == 401
    missing = _post(collector.url, "track", _track(3))
    assert missing.status_code == 401 and "writeKey" in missing.json()["message"]
    # A batch mixing in an unknown key is refused whole, not stored in part.
    mixed = {"batch": [_track(4), {**_track(5), "writeKey": "nope"}]}
    assert _post(collector.url, "batch", mixed, _basic("wk_web")).status_code == 401
    collector.stop()
    assert inbox_messages(collector.inbox) == []


def test_gzip_bodies_and_bad_gzip(start_collector) -> None:
    collector = start_collector()
    body = gzip.compress(json.dumps({"batch": [_track(n) for n in range(50)]}).encode())
    headers = {**_basic("wk_web"), "Content-Encoding": "gzip"}
    assert _post(collector.url, "batch", body, headers).status_code == 200
    broken = _post(collector.url, "batch", body[: len(body) // 2], headers)
    assert broken.status_code == 400 and "gzip" in broken.json()["message"]
    garbage = _post(collector.url, "batch", b"not gzip at all", headers)
    assert garbage.status_code == 400 and "gzip" in garbage.json()["message"]
    collector.stop()
    assert sorted(m["messageId"] for m in inbox_messages(collector.inbox)) == sorted(
        f"m{n}" for n in range(50)
    )


def test_segment_size_limits_answer_413_with_a_reason(start_collector) -> None:
    collector = start_collector()
    auth = _basic("wk_web")
    big_message = _track(1, properties={"blob": "x" * (33 * 1024)})
    answer = _post(collector.url, "batch", {"batch": [_track(0), big_message]}, auth)
    assert answer.status_code == 413
    assert "batch[1]" in answer.json()["message"] and "32 KB" in answer.json()["message"]
    # 20 messages of 30 KB: each under 32 KB, the request over 500 KB.
    many = {"batch": [_track(n, properties={"blob": "y" * (30 * 1024)}) for n in range(20)]}
    answer = _post(collector.url, "batch", many, auth)
    assert answer.status_code == 413 and "500 KB" in answer.json()["message"]
    # The same once gzipped: small on the wire, over the limit once inflated.
    packed = gzip.compress(json.dumps(many).encode())
    assert len(packed) < 50 * 1024
    answer = _post(collector.url, "batch", packed, {**auth, "Content-Encoding": "gzip"})
    assert answer.status_code == 413 and "decompressed" in answer.json()["message"]
    just_under = _track(2, properties={"blob": "z" * (31 * 1024)})
    assert _post(collector.url, "batch", {"batch": [just_under]}, auth).status_code == 200
    collector.stop()
    assert [m["messageId"] for m in inbox_messages(collector.inbox)] == ["m2"]


def test_bad_bodies_answer_400_with_a_reason_naming_no_value(start_collector) -> None:
    collector = start_collector()
    auth = _basic("wk_web")
    batch_cases = {
        b'{"batch": [': "invalid JSON",
        b"[1, 2]": "not a JSON object",
        json.dumps({"batch": []}).encode(): "batch",
        json.dumps({"batch": ["x"]}).encode(): "batch[0] is not an object",
        json.dumps({"batch": [_track(1)], "context": "x"}).encode(): "batch-level context is not an object",
        b'{"batch": [' + b"[" * 100_000: "nested too deeply",
        b'{"batch": [{"type": "track", "userId": "u", "event": "E", "properties": {"n": 1e999}}]}': "out of range",
    }
    # A single call is the whole request: a bad one is refused with its reason.
    call_cases = {
        (
            "identify",
            json.dumps({"traits": {"email": "secret@example.com"}}),
        ): "neither userId nor anonymousId",
        ("track", json.dumps({"userId": "secret@example.com"})): "track needs an event",
        ("track", json.dumps(_track(1, timestamp="yesterday-ish"))): "message.timestamp",
        ("track", json.dumps(_track(1, properties=[1]))): "message.properties is not an object",
        ("alias", json.dumps({"userId": "u"})): "alias needs previousId",
    }
    requests_ = [("batch", body, reason) for body, reason in batch_cases.items()]
    requests_ += [(kind, body.encode(), reason) for (kind, body), reason in call_cases.items()]
    for kind, body, reason in requests_:
        answer = _post(collector.url, kind, body, auth)
        assert answer.status_code == 400, body
        assert reason in answer.json()["message"], (body, answer.json())
        assert "secret@example.com" not in answer.text
    collector.stop()
    assert inbox_messages(collector.inbox) == []


def test_bad_calls_in_a_batch_are_stored_with_their_reason_and_the_rest_accepted(start_collector) -> None:
    # Segment answers 200 and drops bad calls later; a 400 would make the SDK drop the good ones too.
    collector = start_collector()
    batch = [
        _track(0),
        {"type": "explode", "userId": "u", "messageId": "bad-type"},
        {"type": "track", "event": "E", "messageId": "no-identity", "writeKey": "wk_web"},
        {"type": "track", "userId": "secret@example.com", "messageId": "no-event"},
        _track(4, timestamp="yesterday-ish"),
        _track(5, properties=[1]),
        {"type": "alias", "userId": "u"},
        _track(7),
    ]
    answer = _post(collector.url, "batch", {"batch": batch}, _basic("wk_web"))
    assert answer.status_code == 200 and answer.json() == {"success": True}
    collector.stop()
    stored = inbox_messages(collector.inbox)
    assert [m.get("messageId") for m in stored] == [
        "m0",
        "bad-type",
        "no-identity",
        "no-event",
        "m4",
        "m5",
        None,
        "m7",
    ]
    refused = {i: m["uds_refused"] for i, m in enumerate(stored) if "uds_refused" in m}
    assert set(refused) == {1, 2, 3, 4, 5, 6}
    for index, fragment in {
        1: "has no valid type",
        2: "neither userId nor anonymousId",
        3: "track needs an event",
        4: "batch[4].timestamp",
        5: "batch[5].properties is not an object",
        6: "alias needs previousId",
    }.items():
        assert refused[index].startswith(f"batch[{index}]") and fragment in refused[index], refused[index]
    assert "secret@example.com" not in " ".join(refused.values())
    # Stored as sent (the key never), with the source and the time we received it.
    assert all(m["source"] == "website" and m["receivedAt"] and "writeKey" not in m for m in stored)
    assert stored[4]["timestamp"] == "yesterday-ish" and stored[5]["properties"] == [1]


def test_a_retried_batch_is_stored_once(start_collector) -> None:
    collector = start_collector()
    batch = {"batch": [_track(n) for n in range(10)]}
    auth = _basic("wk_web")
    assert _post(collector.url, "batch", batch, auth).status_code == 200
    assert _post(collector.url, "batch", batch, auth).status_code == 200  # the SDK's retry
    # The same ids from another source are other messages.
    assert _post(collector.url, "batch", {"batch": [_track(0)]}, _basic("wk_server")).status_code == 200
    collector.stop()
    stored = [(m["source"], m["messageId"]) for m in inbox_messages(collector.inbox)]
    assert sorted(stored) == sorted([("website", f"m{n}") for n in range(10)] + [("backend", "m0")])


def test_clock_skew_corrected_from_sent_at(start_collector) -> None:
    collector = start_collector()
    # The device clock runs 2 hours fast; the event happened 30 s before the batch was sent.
    device_now = datetime.now(UTC) + timedelta(hours=2)
    skewed = _track(1, timestamp=(device_now - timedelta(seconds=30)).isoformat(timespec="microseconds"))
    imported = _track(2, timestamp="2024-03-01T12:00:00Z")  # own sentAt absent below: kept as given
    assert _post(
        collector.url, "batch", {"batch": [skewed], "sentAt": device_now.isoformat()}, _basic("wk_web")
    ).ok
    assert _post(collector.url, "track", imported, _basic("wk_web")).ok
    collector.stop()
    stored = {m["messageId"]: m for m in inbox_messages(collector.inbox)}
    received = datetime.fromisoformat(stored["m1"]["receivedAt"])
    corrected = datetime.fromisoformat(stored["m1"]["timestamp"])
    assert abs((received - corrected) - timedelta(seconds=30)) < timedelta(milliseconds=2)
    assert stored["m1"]["originalTimestamp"] == skewed["timestamp"][:23] + "Z"
    assert stored["m2"]["timestamp"] == "2024-03-01T12:00:00.000Z"
    assert stored["m2"]["sentAt"] is None


def test_cors_on_answers_and_errors(start_collector) -> None:
    collector = start_collector()
    origin = "https://app.example.org"
    ok = _post(collector.url, "track", {**_track(1), "writeKey": "wk_web"}, {"Origin": origin})
    denied = _post(collector.url, "track", {**_track(2), "writeKey": "nope"}, {"Origin": origin})
    for answer in (ok, denied):
        assert answer.headers["access-control-allow-origin"] == origin
        assert "Origin" in answer.headers["vary"]
    assert "access-control-allow-origin" not in _post(collector.url, "track", _track(3)).headers
    assert requests.get(f"{collector.url}/healthz", timeout=5).json() == {"status": "ok"}
    collector.stop()


def test_every_acknowledged_message_is_in_a_complete_private_file_after_shutdown(start_collector) -> None:
    collector = start_collector(spool_max_bytes=64 * 1024)  # several rotations on the way
    acknowledged: list[str] = []
    lock = threading.Lock()

    def client(worker: int) -> None:
        session = requests.Session()
        for b in range(15):
            ids = [f"w{worker}-b{b}-{i}" for i in range(40)]
            batch = {"batch": [{**_track(0), "messageId": i} for i in ids]}
            response = session.post(
                f"{collector.url}/v1/batch", json=batch, headers=_basic("wk_web"), timeout=10
            )
            if response.status_code == 200:
                with lock:
                    acknowledged.extend(ids)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    collector.stop()
    assert len(acknowledged) == 4 * 15 * 40
    files = sorted(collector.inbox.iterdir())
    assert len(files) > 1
    for path in files:
        assert path.name.startswith("events_") and path.suffix == ".jsonl"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes().endswith(b"\n")
    stored = [m["messageId"] for m in inbox_messages(collector.inbox)]
    assert sorted(stored) == sorted(acknowledged)
    assert list(collector.spool_dir.iterdir()) == []


def test_logs_carry_no_personal_data(start_collector, caplog) -> None:
    collector = start_collector()
    caplog.set_level(logging.DEBUG, logger="uds_pipelines.collect")
    email = "grace.hopper@example.com"
    _post(collector.url, "batch", {"batch": [{"type": "track", "userId": email}]}, _basic("wk_web"))
    _post(collector.url, "batch", {"batch": [_track(1, properties={"email": email})]}, _basic("wk_web"))
    _post(collector.url, "batch", {"batch": [_track(2)]}, _basic(email))
    collector.stop()
    assert caplog.records, "the rejections were logged"
    assert email not in caplog.text
