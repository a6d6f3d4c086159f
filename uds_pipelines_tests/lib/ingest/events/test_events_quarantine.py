"""Every bad message becomes a quarantine row with a specific reason; records are conserved."""

from __future__ import annotations

import json

import pytest

from uds_pipelines_tests.lib.ingest.events.helpers import drop, land, query, settings_for
from uds_pipelines_tests.lib.ingest.events.spec_examples import SEGMENT_IDENTIFY, SEGMENT_TRACK, message

BAD = [
    ("not json", "invalid JSON at line 1"),
    ("[1, 2]", "JSON array where a message object is expected at line 1"),
    ('"track"', "JSON string where a message object is expected"),
    (message(SEGMENT_TRACK, type=None), "message without type at line 1"),
    (message(SEGMENT_TRACK, type="purchase"), "unknown message type 'purchase'"),
    (message(SEGMENT_TRACK, messageId=None), "message without messageId"),
    (message(SEGMENT_TRACK, messageId=""), "message without messageId"),
    (message(SEGMENT_TRACK, messageId={"id": 1}), "message without messageId"),
    (message(SEGMENT_TRACK, timestamp=None, originalTimestamp=None), "message without timestamp"),
    (message(SEGMENT_TRACK, timestamp="last tuesday"), "unparseable timestamp 'last tuesday'"),
    (message(SEGMENT_TRACK, timestamp="1970-01-01T00:00:00Z"), "unparseable timestamp '1970-01-01T00:00:00Z'"),
    (message(SEGMENT_TRACK, event=None), "track message without event name"),
    (message(SEGMENT_TRACK, event=["Order Completed"]), "track message without event name"),
    (message(SEGMENT_IDENTIFY, userId=None, anonymousId=None), "message without userId or anonymousId"),
    (message(SEGMENT_TRACK, userId={"id": "u1"}), "userId or anonymousId is not a string"),
    (message(SEGMENT_TRACK, properties=["a"]), "properties is not a JSON object"),
    (message(SEGMENT_TRACK, properties={"blob": "x" * 33_000}), "past Segment's 32 KB limit at line 1"),
]


@pytest.mark.parametrize(("line", "reason"), BAD, ids=[r for _l, r in BAD])
def test_each_bad_message_is_quarantined_with_its_reason(tmp_path, line, reason):
    settings = settings_for(tmp_path)
    drop(settings, "bad.jsonl", [line, message(SEGMENT_TRACK, messageId="good")])
    stage = land(settings)
    assert (stage.summary.records_read, stage.summary.records_landed, stage.summary.records_quarantined) == (2, 1, 1)
    ((source, file, position, text, raw),) = query(
        settings, "SELECT source, source_file, position, reason, raw FROM quarantine"
    )
    assert (source, file, position) == ("event", "bad.jsonl", 1)
    assert reason in text
    assert raw  # the message is kept for replay
    assert query(settings, "SELECT message_id FROM events") == [("good",)]


def test_blank_lines_are_not_records_and_positions_count_physical_lines(tmp_path):
    settings = settings_for(tmp_path)
    drop(settings, "gaps.jsonl", ["", message(SEGMENT_TRACK, messageId="a"), "   ", "oops"])
    stage = land(settings)
    assert (stage.summary.records_read, stage.summary.records_landed, stage.summary.records_quarantined) == (2, 1, 1)
    assert query(settings, "SELECT position FROM events") == [(2,)]
    assert query(settings, "SELECT position FROM quarantine") == [(4,)]


def test_invalid_utf8_lines_are_quarantined_and_the_rest_of_the_file_lands(tmp_path):
    settings = settings_for(tmp_path)
    path = settings.inbox("events") / "latin1.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        json.dumps(message(SEGMENT_TRACK, messageId="ok")).encode() + b"\n"
        + b'{"type":"track","event":"Caf\xe9","messageId":"bad"}\n'
    )
    stage = land(settings)
    assert (stage.summary.records_read, stage.summary.records_landed, stage.summary.records_quarantined) == (2, 1, 1)
    assert query(settings, "SELECT position, reason FROM quarantine") == [(2, "invalid UTF-8 at line 2")]


def test_a_file_of_another_type_is_quarantined_whole(tmp_path):
    settings = settings_for(tmp_path)
    (settings.inbox("events")).mkdir(parents=True)
    (settings.inbox("events") / "export.csv").write_text("type,messageId\ntrack,1\n")
    stage = land(settings)
    assert stage.summary.records_quarantined == 1 and stage.summary.records_landed == 0
    ((reason,),) = query(settings, "SELECT reason FROM quarantine")
    assert reason.startswith("unsupported file type .csv")
