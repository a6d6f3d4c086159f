"""The spool alone: group commit, de-duplication, a failed fsync, recovery after a crash."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from uds_pipelines.lib.collect import spool as spool_module
from uds_pipelines.lib.collect.dedup import DedupWindow
from uds_pipelines.lib.collect.spool import EventSpool
from uds_pipelines_tests.lib.collect.conftest import inbox_messages


def _records(prefix: str, n: int, source: str = "web") -> list[tuple[str, str, bytes]]:
    return [
        (
            source,
            f"{prefix}-{i}",
            json.dumps({"source": source, "messageId": f"{prefix}-{i}"}).encode() + b"\n",
        )
        for i in range(n)
    ]


def _spool(tmp_path: Path, **options) -> EventSpool:
    spool = EventSpool(tmp_path / "spool", tmp_path / "inbox", **options)
    spool.start()
    return spool


def test_group_commit_shares_one_fsync_between_concurrent_requests(tmp_path: Path, monkeypatch) -> None:
    spool = _spool(tmp_path)
    calls = []
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        calls.append(fd)
        time.sleep(0.05)  # a disk that takes 50 ms: requests arriving meanwhile ride the next one
        real_fsync(fd)

    monkeypatch.setattr(spool_module.os, "fsync", slow_fsync)
    barrier = threading.Barrier(16)

    def request(t: int) -> None:
        barrier.wait()
        spool.commit(_records(f"t{t}", 100))

    threads = [threading.Thread(target=request, args=(t,)) for t in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 1,600 events in 16 requests: one fsync per event would be 1,600, one per request 16.
    assert 1 <= len(calls) <= 4
    spool.close()
    assert len(inbox_messages(tmp_path / "inbox")) == 1600


def test_commit_returns_only_after_the_fsync_covering_it(tmp_path: Path, monkeypatch) -> None:
    spool = _spool(tmp_path)
    release = threading.Event()
    real_fsync = os.fsync

    def held_fsync(fd: int) -> None:
        release.wait(10)
        real_fsync(fd)

    monkeypatch.setattr(spool_module.os, "fsync", held_fsync)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (spool.commit(_records("d", 3)), done.set()))
    thread.start()
    assert not done.wait(0.3), "acknowledged before its data was synced"
    release.set()
    assert done.wait(10)
    thread.join()
    spool.close()


def test_duplicates_are_dropped_within_the_window(tmp_path: Path) -> None:
    spool = _spool(tmp_path, dedup=DedupWindow(capacity=5))
    assert spool.commit(_records("a", 3)) == 3
    assert spool.commit(_records("a", 3)) == 0  # retried
    assert spool.commit(_records("a", 3, source="ios")) == 3  # same ids, other source
    assert spool.commit(_records("b", 10)) == 10  # pushes a-* out of the 5-id window
    assert spool.commit(_records("a", 1)) == 1
    spool.close()
    assert len(inbox_messages(tmp_path / "inbox")) == 17


def test_a_failed_fsync_is_not_acknowledged_and_the_retry_is_stored(tmp_path: Path, monkeypatch) -> None:
    spool = _spool(tmp_path)
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(spool_module.os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        spool.commit(_records("x", 4))
    monkeypatch.setattr(spool_module.os, "fsync", real_fsync)
    assert spool.commit(_records("x", 4)) == 4  # the ids were forgotten, so the retry is written
    spool.close()
    # The abandoned file (whose lines may or may not be durable) is published at the next start.
    again = EventSpool(tmp_path / "spool", tmp_path / "inbox")
    assert len(again.start()) == 1
    ids = [m["messageId"] for m in inbox_messages(tmp_path / "inbox")]
    assert sorted(set(ids)) == [f"x-{i}" for i in range(4)]  # duplicates here; landing removes them


def test_recovery_cuts_the_torn_tail_and_remembers_the_ids(tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    dead = spool_dir / "spool-999-dead.jsonl"
    lines = b"".join(r[2] for r in _records("r", 3))
    dead.write_bytes(lines + b'{"source": "web", "messageId": "r-torn", "ty')
    (spool_dir / ".spool-999-other.creating").write_bytes(b"")
    spool = EventSpool(spool_dir, tmp_path / "inbox")
    published = spool.start()
    assert len(published) == 1 and published[0].name.startswith("events_")
    assert published[0].read_bytes() == lines
    assert list(spool_dir.iterdir()) == []
    # The SDK retries the batch the crash interrupted: already stored, not stored again.
    assert spool.commit(_records("r", 4)) == 1
    spool.close()
    assert sorted(m["messageId"] for m in inbox_messages(tmp_path / "inbox")) == [f"r-{i}" for i in range(4)]


def test_size_and_age_rotation_publish_complete_files(tmp_path: Path) -> None:
    spool = _spool(tmp_path, max_bytes=500, max_age_seconds=0.0)
    spool.commit(_records("s", 20))  # over 500 bytes: published at once
    assert len(list((tmp_path / "inbox").iterdir())) == 1
    spool.commit(_records("t", 1))
    assert spool.rotate(only_if_due=True) is not None  # age 0: due immediately
    assert spool.rotate(only_if_due=True) is None  # nothing new
    spool.close()
    assert len(inbox_messages(tmp_path / "inbox")) == 21


def test_spool_and_inbox_files_are_private_unless_group_access_is_configured(
    tmp_path: Path, monkeypatch
) -> None:
    spool = _spool(tmp_path / "a")
    spool.commit(_records("p", 1))
    published = spool.rotate()
    assert published is not None and stat.S_IMODE(published.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "a" / "spool").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "inbox").stat().st_mode) == 0o700
    monkeypatch.setenv("UDS_FILE_MODE", "640")
    spool = _spool(tmp_path / "b")
    spool.commit(_records("g", 1))
    published = spool.rotate()
    assert published is not None and stat.S_IMODE(published.stat().st_mode) == 0o640
