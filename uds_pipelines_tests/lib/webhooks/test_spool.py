"""The durable spool: append, rotation by size and age, crash recovery and cross-process ownership."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from uds_pipelines.lib.webhooks.spool import Spool, publish_file, recover_spool, truncate_incomplete_tail


def _line(i: int) -> bytes:
    return json.dumps({"id": f"evt_{i}", "object": "event"}).encode() + b"\n"


def _inbox_ids(inbox: Path) -> list[str]:
    ids = []
    for path in sorted(inbox.glob("*.jsonl")):
        ids += [json.loads(line)["id"] for line in path.read_text().splitlines()]
    return ids


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "spool" / "stripe", tmp_path / "inbox" / "stripe"


def test_append_is_in_spool_not_inbox_until_rotation(dirs: tuple[Path, Path]) -> None:
    spool_dir, inbox = dirs
    spool = Spool(spool_dir, inbox, max_age_seconds=3600)
    spool.start()
    spool.append(_line(1))
    spool.append(_line(2))
    assert list(inbox.iterdir()) == []
    assert [p.suffix for p in spool_dir.iterdir()] == [".jsonl"]
    published = spool.rotate()
    assert published is not None and published.parent == inbox
    assert published.name.startswith("webhook-") and published.suffix == ".jsonl"
    assert _inbox_ids(inbox) == ["evt_1", "evt_2"]
    assert list(spool_dir.iterdir()) == []
    assert spool.rotate() is None  # nothing new: no empty file appears in the inbox


def test_rotation_by_size(dirs: tuple[Path, Path]) -> None:
    spool_dir, inbox = dirs
    spool = Spool(spool_dir, inbox, max_bytes=200, max_age_seconds=3600)
    spool.start()
    for i in range(20):
        spool.append(_line(i))
    files = list(inbox.glob("*.jsonl"))
    per_file = -(-200 // len(_line(10)))
    assert len(files) == 20 // per_file
    # Rotated as soon as the size was crossed: at least the limit, less than one line over it.
    assert all(200 <= f.stat().st_size < 200 + len(_line(19)) for f in files)
    spool.close()
    assert sorted(_inbox_ids(inbox)) == sorted(f"evt_{i}" for i in range(20))


def test_rotation_by_age(dirs: tuple[Path, Path]) -> None:
    spool_dir, inbox = dirs
    spool = Spool(spool_dir, inbox, max_age_seconds=0.05)
    spool.start()
    assert spool.rotate(only_if_due=True) is None  # empty spool is never due
    spool.append(_line(1))
    assert spool.rotate(only_if_due=True) is None
    time.sleep(0.06)
    assert spool.rotate(only_if_due=True) is not None
    assert _inbox_ids(inbox) == ["evt_1"]


def test_rejects_multi_line_records(dirs: tuple[Path, Path]) -> None:
    spool = Spool(*dirs)
    spool.start()
    with pytest.raises(ValueError):
        spool.append(b'{"a":1}\n{"b":2}\n')
    with pytest.raises(ValueError):
        spool.append(b'{"a":1}')


def test_truncate_incomplete_tail(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"one\ntwo\nthr")
    fd = os.open(path, os.O_RDWR)
    try:
        assert truncate_incomplete_tail(fd) == 8
    finally:
        os.close(fd)
    assert path.read_bytes() == b"one\ntwo\n"
    path.write_bytes(b"x" * 200_000)  # no newline at all: nothing was ever acknowledged
    fd = os.open(path, os.O_RDWR)
    try:
        assert truncate_incomplete_tail(fd) == 0
    finally:
        os.close(fd)


def test_recovery_publishes_leftovers_and_drops_torn_line(dirs: tuple[Path, Path]) -> None:
    spool_dir, inbox = dirs
    spool_dir.mkdir(parents=True)
    (spool_dir / "spool-1-dead.jsonl").write_bytes(_line(1) + _line(2) + b'{"id":"evt_3","obj')
    (spool_dir / "spool-2-empty.jsonl").write_bytes(b'{"id":"evt_4"')
    (spool_dir / ".spool-3-x.creating").write_bytes(b"")
    (spool_dir / "unrelated.txt").write_text("keep me")
    published = recover_spool(spool_dir, inbox)
    assert len(published) == 1
    assert _inbox_ids(inbox) == ["evt_1", "evt_2"]
    assert sorted(p.name for p in spool_dir.iterdir()) == ["unrelated.txt"]


def test_recovery_skips_file_locked_by_live_process(dirs: tuple[Path, Path]) -> None:
    spool_dir, inbox = dirs
    spool_dir.mkdir(parents=True)
    held = spool_dir / "spool-9-live.jsonl"
    held.write_bytes(_line(1))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,os,sys,time;fd=os.open(sys.argv[1],os.O_RDWR);"
            "fcntl.flock(fd,fcntl.LOCK_EX);print('locked',flush=True);time.sleep(30)",
            str(held),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert recover_spool(spool_dir, inbox) == []
        assert held.exists()
    finally:
        holder.kill()
        holder.wait()
    assert len(recover_spool(spool_dir, inbox)) == 1
    assert _inbox_ids(inbox) == ["evt_1"]


def test_publish_file_moves_whole_file(tmp_path: Path) -> None:
    src = tmp_path / "work" / "a.jsonl"
    src.parent.mkdir()
    src.write_bytes(_line(7))
    final = publish_file(src, tmp_path / "inbox", "b.jsonl")
    assert not src.exists()
    assert final.read_bytes() == _line(7)
