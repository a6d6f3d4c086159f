"""Landing Segment/RudderStack message files into lake/events/: typed columns, conservation,
messageId de-duplication, UTC day folders, crash reruns, retention."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from uds_pipelines.lib import lake, lake_views
from uds_pipelines.lib.consent.stage import build_consent
from uds_pipelines.lib.ingest.events import write
from uds_pipelines.lib.ingest.events.landing import batch_name, land_event_files
from uds_pipelines.lib.ingest.inbox_landing import ClaimedFile
from uds_pipelines.lib.privacy.retention import apply_retention
from uds_pipelines.lib.tracking_plan import TrackingPlan
from uds_pipelines_tests.lib.ingest.events.helpers import drop, land, query, settings_for
from uds_pipelines_tests.lib.ingest.events.spec_examples import (
    ALL,
    RUDDERSTACK_TRACK,
    SEGMENT_IDENTIFY,
    SEGMENT_ORDER_COMPLETED,
    SEGMENT_PAGE,
    SEGMENT_TRACK,
    message,
)


def test_spec_examples_land_with_typed_columns(tmp_path):
    settings = settings_for(tmp_path)
    drop(
        settings,
        "events_20151212T191101Z_ab12.jsonl",
        [*ALL, message(SEGMENT_TRACK, messageId="x", source="web")],
    )
    stage = land(settings)
    assert stage.summary.records_landed == 6 and stage.summary.records_quarantined == 0
    rows = {
        r[0]: r[1:]
        for r in query(
            settings,
            "SELECT message_id, type, event, name, user_id, anonymous_id, timestamp, received_at, "
            "utm_source, utm_medium, utm_campaign, utm_term, utm_content, page_url, page_path, page_referrer, "
            "source, source_file, position, day FROM events",
        )
    }
    track = rows["ajs-f8ca1e4de5024d9430b3928bd8ac6b96"]
    assert track[:5] == (
        "track",
        "Course Clicked",
        None,
        "AiUGstSDIg",
        "23adfd82-aa0f-45a7-a756-24f2a7a4c895",
    )
    assert track[5] == datetime(2015, 12, 12, 19, 11, 1, 249000, tzinfo=UTC)
    assert track[6] == datetime(2015, 12, 12, 19, 11, 1, 266000, tzinfo=UTC)
    assert track[7:12] == ("Newsletter", "email", "TPS Innovation Newsletter", "tps reports", "image link")
    assert track[12:15] == ("https://segment.com/academy/", "/academy/", None)  # "" referrer is no referrer
    assert track[15:18] == (None, "events_20151212T191101Z_ab12.jsonl", 1)
    assert str(track[18]) == "2015-12-12"
    assert rows["x"][15] == "web"  # `source` as uds-collect writes it
    page = rows["022bb90c-bbac-11e4-8dfc-aa07a5b093dc"]
    assert page[:3] == ("page", None, "Home") and page[12] == "http://www.initech.com"  # from properties
    rudder = rows["1b8ee4c3-ffad-4457-b453-31b32da1dfea"]
    assert (
        rudder[7:9] == ("Google", "medium")
        and rudder[14] == "https://www.google.com/search?q=estore+bestseller"
    )
    ((traits, context, properties),) = query(
        settings, "SELECT traits, context, properties FROM events WHERE type = 'identify'"
    )
    assert json.loads(traits) == SEGMENT_IDENTIFY["traits"] and json.loads(context)["ip"] == "8.8.8.8"
    assert properties is None
    ((order,),) = query(settings, "SELECT properties FROM events WHERE event = 'Order Completed'")
    assert json.loads(order) == SEGMENT_ORDER_COMPLETED["properties"]


def test_duplicate_message_ids_land_once_within_and_across_batches(tmp_path):
    settings = settings_for(tmp_path)
    drop(settings, "a.jsonl", [SEGMENT_TRACK, SEGMENT_PAGE, SEGMENT_TRACK])
    first = land(settings)
    assert (first.summary.records_read, first.summary.records_landed, first.summary.duplicates_skipped) == (
        3,
        2,
        1,
    )
    # a retried delivery: same messages, other content around them, another file
    drop(settings, "b.jsonl", [message(SEGMENT_PAGE, name="Retried"), SEGMENT_IDENTIFY, SEGMENT_TRACK])
    second = land(settings)
    assert (second.summary.records_landed, second.summary.duplicates_skipped) == (1, 2)
    counts = query(settings, "SELECT message_id, count(*), min(name) FROM events GROUP BY 1 ORDER BY 1")
    assert [c[1] for c in counts] == [1, 1, 1]
    assert ("022bb90c-bbac-11e4-8dfc-aa07a5b093dc", 1, "Home") in counts  # the first copy won
    ledger = query(
        settings,
        "SELECT file_name, records_read, records_landed, records_quarantined, duplicates_skipped "
        "FROM landed_files WHERE source = 'events' ORDER BY 1",
    )
    assert ledger == [("a.jsonl", 3, 2, 0, 1), ("b.jsonl", 3, 1, 0, 2)]


def test_days_are_utc_days_of_the_event_timestamp(tmp_path):
    settings = settings_for(tmp_path)
    drop(
        settings,
        "days.jsonl",
        [
            message(SEGMENT_TRACK, messageId="late", timestamp="2026-12-05T23:30:00-02:00"),  # 6th, 01:30 UTC
            message(
                SEGMENT_TRACK, messageId="early", timestamp="2026-12-06T00:30:00+02:00"
            ),  # 5th, 22:30 UTC
            message(SEGMENT_TRACK, messageId="plain", timestamp="2026-12-05T12:00:00Z"),
            # no `timestamp` (a client library's own file): `originalTimestamp` decides the day
            message(
                SEGMENT_TRACK, messageId="orig", timestamp=None, originalTimestamp="2026-12-06T08:00:00Z"
            ),
        ],
    )
    stage = land(settings)
    assert stage.days == {"2026-12-05", "2026-12-06"}
    folder = settings.lake_dir / "events"
    assert sorted(p.name for p in folder.iterdir()) == ["day=2026-12-05", "day=2026-12-06"]
    assert {p.name for p in (folder / "day=2026-12-05").iterdir()} == {
        batch_name(stage.summary.files[0]["sha256"])
    }
    by_day = query(
        settings,
        "SELECT day::VARCHAR, list(message_id ORDER BY message_id) FROM events GROUP BY 1 ORDER BY 1",
    )
    assert by_day == [("2026-12-05", ["early", "plain"]), ("2026-12-06", ["late", "orig"])]
    # a filter on the partition column reads one folder
    assert query(settings, "SELECT count(*) FROM events WHERE day = DATE '2026-12-06'") == [(2,)]
    assert lake_views.row_count(settings.lake_dir, "events") == 4


def test_a_rerun_after_a_crash_rewrites_the_same_files(tmp_path):
    """The batch was written but the ledger row was not (killed in between): landing the same file
    again must neither duplicate rows nor count its own rows as duplicates."""
    settings = settings_for(tmp_path)
    path = drop(
        settings,
        "crash.jsonl",
        [message(SEGMENT_TRACK, messageId="d1", timestamp="2026-12-01T10:00:00Z"), SEGMENT_PAGE],
    )
    claimed = ClaimedFile(path, "ab" * 32, path.stat().st_size)
    plan = settings.tracking_plan()
    first = land_event_files([claimed], settings.lake_dir, plan)
    files = sorted(
        p.relative_to(settings.lake_dir) for p in (settings.lake_dir / "events").rglob("*.parquet")
    )
    again = land_event_files([claimed], settings.lake_dir, plan)
    assert first.rows == again.rows and again.rows[0]["records_landed"] == 2
    assert (
        sorted(p.relative_to(settings.lake_dir) for p in (settings.lake_dir / "events").rglob("*.parquet"))
        == files
    )
    assert query(settings, "SELECT count(*) FROM events") == [(2,)]


def _day_files(settings) -> dict[str, list[str]]:
    folder = settings.lake_dir / "events"
    return {d.name: sorted(f.name for f in d.glob("*.parquet")) for d in sorted(folder.iterdir())}


def test_one_landing_run_writes_one_file_per_day_whatever_the_number_of_input_files(tmp_path):
    """A replay of many files spanning many days (a storage destination's backfill) must not make
    a file per (input file, day): one per day and landing run, named after the run's ledger batch."""
    settings = settings_for(tmp_path)
    for n in range(3):
        drop(settings, f"events_{n}.jsonl", [
            message(SEGMENT_TRACK, messageId=f"m{n}-{day}", timestamp=f"2026-12-0{day}T10:00:00Z") for day in (1, 2, 3)
        ])  # fmt: skip
    stage = land(settings)
    run = batch_name(stage.summary.files[0]["sha256"])
    assert _day_files(settings) == {f"day=2026-12-0{d}": [run] for d in (1, 2, 3)}
    drop(
        settings, "events_3.jsonl", [message(SEGMENT_TRACK, messageId="m3", timestamp="2026-12-01T11:00:00Z")]
    )
    later = land(settings)
    assert _day_files(settings)["day=2026-12-01"] == sorted(
        [run, batch_name(later.summary.files[0]["sha256"])]
    )
    assert query(settings, "SELECT count(*), count(DISTINCT source_file) FROM events") == [(10, 4)]


def test_a_run_over_more_days_than_duckdb_keeps_files_open_still_writes_one_file_per_day(
    tmp_path, monkeypatch
):
    """DuckDB keeps at most `partitioned_write_max_open_files` partition files open and starts
    another file when a closed partition gets more rows (at 10M events: past 100 days): a backfill,
    its days interleaved, must still leave one file per day."""
    monkeypatch.setattr(write, "FLUSH_ROWS", 1)
    monkeypatch.setattr(write, "MAX_OPEN_FILES", 2)
    settings = settings_for(tmp_path)
    days = [f"{date(2026, 1, 1) + timedelta(days=d):%Y-%m-%d}" for d in range(150)]
    drop(settings, "backfill.jsonl", [
        message(SEGMENT_TRACK, messageId=f"m{r}-{day}", timestamp=f"{day}T10:{r:02d}:00Z") for r in range(20) for day in days
    ])  # more than one DuckDB vector (2,048 rows): the partitions fill up across chunks  # fmt: skip
    stage = land(settings)
    run = batch_name(stage.summary.files[0]["sha256"])
    assert _day_files(settings) == {f"day={day}": [run] for day in days}
    assert query(settings, "SELECT count(*), count(DISTINCT day) FROM events") == [(3000, 150)]


def test_a_crashed_run_s_files_go_even_when_the_rerun_batches_other_files(tmp_path):
    """Killed after writing its day files, before its ledger row; meanwhile a new file arrived that
    sorts first, so the rerun's batch (and file name) differs: the dead run's files are vouched for
    by no ledger row and go, and nothing lands twice or counts as a duplicate."""
    settings = settings_for(tmp_path)
    paths = [
        drop(
            settings,
            f"b{n}.jsonl",
            [message(SEGMENT_TRACK, messageId=f"b{n}", timestamp="2026-12-01T10:00:00Z")],
        )
        for n in range(2)
    ]
    claimed = [ClaimedFile(p, lake.sha256_file(p), p.stat().st_size) for p in paths]
    land_event_files(claimed, settings.lake_dir, settings.tracking_plan())  # no ledger row: "killed"
    drop(settings, "a0.jsonl", [message(SEGMENT_TRACK, messageId="a0", timestamp="2026-12-01T11:00:00Z")])
    stage = land(settings)
    assert stage.summary.records_landed == 3 and stage.summary.duplicates_skipped == 0
    assert _day_files(settings) == {"day=2026-12-01": [batch_name(stage.summary.files[0]["sha256"])]}
    assert query(settings, "SELECT list(message_id ORDER BY message_id) FROM events") == [
        (["a0", "b0", "b1"],)
    ]


def test_a_rerun_with_another_plan_leaves_no_stale_day_file(tmp_path):
    """Killed after writing, rerun after the plan changed to quarantine unplanned events: the day
    whose only event is now quarantined must not keep the first attempt's file."""
    settings = settings_for(tmp_path)
    path = drop(
        settings,
        "crash.jsonl",
        [
            message(SEGMENT_TRACK, messageId="unplanned", timestamp="2026-12-01T10:00:00Z"),
            message(SEGMENT_ORDER_COMPLETED, timestamp="2026-12-02T10:00:00Z"),
        ],
    )
    claimed = ClaimedFile(path, "cd" * 32, path.stat().st_size)
    land_event_files([claimed], settings.lake_dir, settings.tracking_plan())
    strict = TrackingPlan.from_dict({"unplanned_events": "quarantine", "events": {"Order Completed": {}}})
    again = land_event_files([claimed], settings.lake_dir, strict)
    assert again.rows[0]["records_landed"] == 1 and again.rows[0]["records_quarantined"] == 1
    assert query(settings, "SELECT message_id FROM events") == [(SEGMENT_ORDER_COMPLETED["messageId"],)]


def test_retention_removes_old_events_by_timestamp(tmp_path):
    settings = settings_for(tmp_path)
    drop(
        settings,
        "old.jsonl",
        [
            message(SEGMENT_TRACK, messageId="old", timestamp="2020-01-01T00:00:00Z"),
            message(SEGMENT_TRACK, messageId="new", timestamp="2026-12-01T00:00:00Z"),
        ],
    )
    land(settings)
    as_of = datetime(2026, 12, 6, tzinfo=UTC)
    # retention waits until the consent step has kept the consent changes of the days it deletes
    assert apply_retention(settings.lake_dir, as_of, retention_days=365)["events"] == 0
    build_consent(replace(settings, as_of_override=as_of, retention_days=365))
    removed = apply_retention(settings.lake_dir, as_of, retention_days=365)
    assert removed["events"] == 1
    assert query(settings, "SELECT message_id FROM events") == [("new",)]
    assert not list((settings.lake_dir / "events" / "day=2020-01-01").glob("*.parquet"))


def test_rudderstack_original_timestamp_and_received_at_are_typed(tmp_path):
    settings = settings_for(tmp_path)
    drop(settings, "r.jsonl", [RUDDERSTACK_TRACK])
    land(settings)
    ((sent, original),) = query(settings, "SELECT sent_at, original_timestamp FROM events")
    assert sent == datetime(2020, 1, 9, 10, 2, 3, 257000, tzinfo=UTC)
    assert original == datetime(2020, 1, 9, 10, 1, 53, 558000, tzinfo=UTC)
