"""Erasure, suppression, access reports and retention reach behavioural events.

Jane has two event identities: `jane-user-1` (the identity map ties it and her pre-sign-up
anonymous id to her) and `700123` (all digits, so no text search finds it), which only an identify
call with her email names. Bob shares a device with her (`anon-shared`): his events there stay."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import catalog, connection, lake
from uds_pipelines.lib.consent.stage import build_consent
from uds_pipelines.lib.privacy import handle_requests, verify_erased
from uds_pipelines.lib.privacy.access import build_access_report
from uds_pipelines.lib.privacy.requests import subjects_from_frame
from uds_pipelines.lib.privacy.retention import apply_retention
from uds_pipelines.lib.privacy.suppression import (
    EVENT_ANONYMOUS,
    EVENT_USER,
    load_suppression,
    suppression_hash,
)
from uds_pipelines_tests.lib.events_lake import write_identity_map
from uds_pipelines_tests.lib.ingest.events.helpers import drop, land, query, settings_for
from uds_pipelines_tests.lib.privacy.helpers import request, resolve

KEY = "test-suppression-key"
JANE_EMAIL = "jane.doe@example.com"


def _msg(mid: str, at: str, user: str | None, anon: str | None, kind: str = "track", **extra) -> dict:
    message = {"type": kind, "messageId": mid, "timestamp": at, "userId": user, "anonymousId": anon}
    if kind == "track":
        message["event"] = extra.pop("event", "Product Viewed")
    return {**message, **extra}


MESSAGES = [
    _msg("m1", "2026-11-01T10:00:00Z", None, "anon-jane"),  # before sign-up
    _msg("m2", "2026-11-01T10:05:00Z", "jane-user-1", "anon-jane", "identify", traits={"email": JANE_EMAIL}),
    _msg("m3", "2026-11-02T09:00:00Z", "jane-user-1", "anon-shared", event="Order Completed",
         properties={"order_id": "o-1", "revenue": 10, "currency": "USD"}),
    _msg("m4", "2026-11-02T09:30:00Z", "700123", "anon-other", "identify", traits={"email": "JANE.DOE@example.com"}),
    _msg("m5", "2026-11-02T09:31:00Z", "700123", "anon-other"),
    _msg("m6", "2026-11-03T11:00:00Z", "bob-user-1", "anon-shared"),  # Bob on the shared device
    _msg("m7", "2026-11-03T11:01:00Z", "bob-user-1", "anon-bob", "identify", traits={"email": "bob@example.com"}),
    _msg("m8", "2026-11-04T11:00:00Z", "bob-user-1", "anon-bob"),
]  # fmt: skip


def _lake(tmp_path: Path):
    settings = settings_for(tmp_path, UDS_SUPPRESSION_KEY=KEY)
    drop(settings, "events_1.jsonl", MESSAGES)
    land(settings)
    lake_dir = settings.lake_dir
    write_identity_map(
        lake_dir,
        [("events", "user:jane-user-1", "c-jane"), ("events", "anon:anon-jane", "c-jane"),
         ("events", "user:bob-user-1", "c-bob"), ("events", "anon:anon-bob", "c-bob")],
    )  # fmt: skip
    identifiers = pd.DataFrame(
        [["events", "user:jane-user-1", "email", JANE_EMAIL, pd.Timestamp("2026-11-01", tz="UTC")]],
        columns=list(catalog.table("identifiers").columns),
    )
    lake.write_parquet_atomic(identifiers, catalog.path(lake_dir, "identifiers"))
    return settings


def _message_ids(settings) -> list[str]:
    return [r[0] for r in query(settings, "SELECT message_id FROM events ORDER BY 1")]


def test_access_report_lists_the_persons_events_only(tmp_path: Path) -> None:
    settings = _lake(tmp_path)
    con = connection.connect(settings.lake_dir)
    [subject] = subjects_from_frame(
        resolve(con, settings.lake_dir, [request("a1", "access", email=JANE_EMAIL)])
    )
    report = build_access_report(con, settings.lake_dir, settings.exports_dir, subject)
    con.close()
    assert [e["message_id"] for e in report["events"]] == ["m1", "m2", "m3", "m4", "m5"]
    assert report["events"][1]["traits"] == {"email": JANE_EMAIL}  # JSON as JSON, not text
    assert ("events", "user:700123") in subject.records  # named by her identify call only


def test_erasure_removes_the_persons_events_suppresses_their_ids_and_verifies(tmp_path: Path) -> None:
    settings = _lake(tmp_path)
    lake_dir = settings.lake_dir
    untouched = catalog.path(lake_dir, "events") / "day=2026-11-04"
    before = {p: lake.sha256_file(p) for p in untouched.glob("*.parquet")}
    con = connection.connect(lake_dir)
    subjects = resolve(con, lake_dir, [request("e1", email=JANE_EMAIL)])
    result = handle_requests(
        lake_dir, settings.exports_dir, subjects, key=KEY.encode(), warehouse_url=None, run_id="r1", con=con
    )
    con.close()
    assert _message_ids(settings) == ["m6", "m7", "m8"]  # Bob's, the shared device's included
    assert {
        p: lake.sha256_file(p) for p in untouched.glob("*.parquet")
    } == before  # only Jane's days rewritten
    assert result.erasure.removed["events/day=2026-11-01"] == 2
    hashes = set(zip(*(load_suppression(lake_dir)[c] for c in ("id_type", "id_hash")), strict=True))
    for pair in [(EVENT_USER, "jane-user-1"), (EVENT_USER, "700123"), (EVENT_ANONYMOUS, "anon-jane")]:
        assert (pair[0], suppression_hash(pair[1], KEY.encode())) in hashes
    assert (EVENT_ANONYMOUS, suppression_hash("anon-shared", KEY.encode())) not in hashes
    text = json.dumps(load_suppression(lake_dir).astype(str).to_dict("records"))
    assert "jane-user" not in text and "anon-jane" not in text  # keyed hashes only
    findings = verify_erased(settings.data_dir, None, {JANE_EMAIL, "jane-user-1"})
    assert [f for f in findings if f.kind == "leftover"] == []


def test_suppressed_events_arriving_again_are_dropped_and_counted(tmp_path: Path) -> None:
    settings = _lake(tmp_path)
    con = connection.connect(settings.lake_dir)
    subjects = resolve(con, settings.lake_dir, [request("e1", email=JANE_EMAIL)])
    handle_requests(
        settings.lake_dir,
        settings.exports_dir,
        subjects,
        key=KEY.encode(),
        warehouse_url=None,
        run_id="r1",
        con=con,
    )
    con.close()
    again = [
        _msg("n1", "2026-11-05T10:00:00Z", "jane-user-1", "anon-new"),
        _msg("n2", "2026-11-05T10:01:00Z", None, "anon-jane"),
        _msg("n3", "2026-11-05T10:02:00Z", "new-user", "anon-new", "identify", traits={"email": "Jane.Doe@Example.com"}),
        _msg("n4", "2026-11-05T10:03:00Z", "bob-user-1", "anon-jane"),  # Bob's, on her old device: kept
        _msg("n5", "2026-11-05T10:04:00Z", None, "anon-shared"),  # nobody's device in particular: kept
    ]  # fmt: skip
    drop(settings, "events_2.jsonl", again)
    stage = land(settings)
    assert [m for m in _message_ids(settings) if m.startswith("n")] == ["n4", "n5"]
    rows = query(
        settings,
        "SELECT position, reason, raw FROM quarantine WHERE source_file = 'events_2.jsonl' ORDER BY 1",
    )
    assert rows == [(1, "suppressed", None), (2, "suppressed", None), (3, "suppressed", None)]
    [file_row] = stage.summary.new_files
    assert (file_row["records_read"], file_row["records_landed"], file_row["records_quarantined"]) == (
        5,
        2,
        3,
    )


def test_retention_drops_event_days_past_the_window(tmp_path: Path) -> None:
    settings = _lake(tmp_path)
    as_of = datetime(2026, 12, 3, tzinfo=UTC)
    build_consent(replace(settings, as_of_override=as_of, retention_days=30))  # keeps the days' consent first
    removed = apply_retention(settings.lake_dir, as_of, retention_days=30)
    assert removed["events"] == 5  # 2026-11-01 and 11-02 are past 30 days on 12-03
    assert _message_ids(settings) == ["m6", "m7", "m8"]
    assert not list((catalog.path(settings.lake_dir, "events") / "day=2026-11-02").glob("*.parquet"))


def test_an_erased_persons_bad_lines_are_suppressed_not_quarantined_with_their_text(tmp_path: Path) -> None:
    # A bad line is still the person's: its text must not reach quarantine with their email in it.
    settings = _lake(tmp_path)
    con = connection.connect(settings.lake_dir)
    subjects = resolve(con, settings.lake_dir, [request("e1", email=JANE_EMAIL)])
    handle_requests(settings.lake_dir, settings.exports_dir, subjects, key=KEY.encode(), warehouse_url=None,
                    run_id="r1", con=con)  # fmt: skip
    con.close()
    bad_time = _msg(
        "b1", "not-a-time", "jane-user-1", None, "identify", traits={"email": "jane.doe@example.com"}
    )
    refused = {**_msg("b2", "2026-11-05T10:00:00Z", "jane-user-1", None), "uds_refused": "batch[1]: test"}
    refused_other = {
        **_msg("b3", "2026-11-05T10:00:00Z", "bob-user-1", None),
        "uds_refused": "batch[2]: test",
    }
    drop(settings, "events_3.jsonl", [bad_time, refused, refused_other])
    stage = land(settings)
    rows = query(
        settings,
        "SELECT position, reason, raw IS NULL FROM quarantine WHERE source_file = 'events_3.jsonl' ORDER BY 1",
    )
    assert [(p, r, n) for p, r, n in rows if p < 3] == [(1, "suppressed", True), (2, "suppressed", True)]
    assert rows[2][0] == 3 and rows[2][1].startswith("refused by uds-collect") and not rows[2][2]
    [file_row] = stage.summary.new_files
    assert (file_row["records_read"], file_row["records_landed"], file_row["records_quarantined"]) == (
        3,
        0,
        3,
    )


def test_a_device_aliased_to_another_user_is_shared_for_erasure_as_for_identity(tmp_path: Path) -> None:
    # anon-other carries 700123's identify (Jane's email) and is aliased to carl-user: two users, so
    # identity links nobody through it, and erasing Jane must not take it (Carl's device too).
    settings = _lake(tmp_path)
    alias = {"type": "alias", "messageId": "a1", "timestamp": "2026-11-05T08:00:00Z", "userId": "carl-user",
             "previousId": "anon-other", "anonymousId": None}  # fmt: skip
    drop(settings, "events_alias.jsonl", [alias])
    land(settings)
    con = connection.connect(settings.lake_dir)
    subjects = resolve(con, settings.lake_dir, [request("e1", email=JANE_EMAIL)])
    handle_requests(settings.lake_dir, settings.exports_dir, subjects, key=KEY.encode(), warehouse_url=None,
                    run_id="r1", con=con)  # fmt: skip
    con.close()
    hashes = set(zip(*(load_suppression(settings.lake_dir)[c] for c in ("id_type", "id_hash")), strict=True))
    assert (EVENT_USER, suppression_hash("700123", KEY.encode())) in hashes
    assert (EVENT_ANONYMOUS, suppression_hash("anon-other", KEY.encode())) not in hashes


def test_a_user_id_with_spaces_is_suppressed_as_it_was_sent(tmp_path: Path) -> None:
    settings = _lake(tmp_path)
    write_identity_map(
        settings.lake_dir,
        [("events", "user:jane-user-1", "c-jane"), ("events", "user: jane-padded ", "c-jane")],
    )
    con = connection.connect(settings.lake_dir)
    subjects = resolve(con, settings.lake_dir, [request("e1", email=JANE_EMAIL)])
    handle_requests(settings.lake_dir, settings.exports_dir, subjects, key=KEY.encode(), warehouse_url=None,
                    run_id="r1", con=con)  # fmt: skip
    con.close()
    drop(settings, "events_again.jsonl", [_msg("p1", "2026-11-06T10:00:00Z", " jane-padded ", None)])
    land(settings)
    assert "p1" not in _message_ids(settings)


def test_erasure_reaches_the_consent_kept_from_expired_event_days(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, UDS_SUPPRESSION_KEY=KEY, UDS_AS_OF="2029-01-01T00:00:00Z")
    cookie = {"consent": {"categoryPreferences": {"Advertising": True}}}
    drop(settings, "events_1.jsonl", [
        _msg("c1", "2026-11-01T10:00:00Z", "jane-user-1", "anon-jane", context=cookie),
        _msg("c2", "2026-11-01T11:00:00Z", "bob-user-1", "anon-bob", context=cookie),
    ])  # fmt: skip
    land(settings)
    lake_dir = settings.lake_dir
    write_identity_map(lake_dir, [("events", "user:jane-user-1", "c-jane"), ("events", "user:bob-user-1", "c-bob")])
    identifiers = pd.DataFrame(
        [["events", "user:jane-user-1", "email", JANE_EMAIL, pd.Timestamp("2026-11-01", tz="UTC")]],
        columns=list(catalog.table("identifiers").columns),
    )
    lake.write_parquet_atomic(identifiers, catalog.path(lake_dir, "identifiers"))
    assert build_consent(settings).kept_from_expiring_events == 2  # the day is past 730 days in 2029
    con = connection.connect(lake_dir)
    subjects = resolve(con, lake_dir, [request("e1", email=JANE_EMAIL)])
    handle_requests(lake_dir, settings.exports_dir, subjects, key=KEY.encode(), warehouse_url=None,
                    run_id="r1", con=con)  # fmt: skip
    con.close()
    kept = pd.read_parquet(catalog.path(lake_dir, "event_consent_history"))
    assert kept["source_record"].tolist() == ["user:bob-user-1"]
    findings = verify_erased(settings.data_dir, None, {JANE_EMAIL, "jane-user-1"})
    assert [f for f in findings if f.kind == "leftover"] == []
