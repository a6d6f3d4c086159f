"""Spool files after a crash: names, ownership, recovery into the inbox, seeding the id window."""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from uds_pipelines.lib.collect.dedup import DedupWindow
from uds_pipelines.lib.webhooks.spool import publish_file, truncate_incomplete_tail, try_lock

log = logging.getLogger("uds_pipelines.collect")

SPOOL_PREFIX = "spool-"


def spool_dir_for(data_dir: Path) -> Path:
    return data_dir / "spool" / "events"


def inbox_dir_for(data_dir: Path) -> Path:
    return data_dir / "inbox" / "events"


def inbox_name() -> str:
    """`events_<UTC timestamp>_<random>.jsonl`: sorts by time, never collides between collectors."""
    return f"events_{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}_{uuid.uuid4().hex}.jsonl"


def remember_ids(path: Path, dedup: DedupWindow) -> None:
    """Add every (source, messageId) of one of our files to the window."""
    with open(path, "rb") as handle:
        for line in handle:
            try:
                message = json.loads(line)
                dedup.add(str(message["source"]), str(message["messageId"]))
            except (ValueError, KeyError, TypeError):
                continue  # not ours to judge here; landing quarantines it


def seed_from_inbox(inbox_dir: Path, dedup: DedupWindow, seconds: float) -> None:
    """Remember the ids of inbox files published in the last `seconds`: a size rotation can
    publish a batch whose answer a crash then swallowed, and its retry must not store it twice."""
    cutoff = time.time() - seconds
    for path in sorted(inbox_dir.glob("events_*.jsonl")):
        try:
            if path.stat().st_mtime >= cutoff:
                remember_ids(path, dedup)
        except FileNotFoundError:
            continue  # landed meanwhile


def recover_spool(spool_dir: Path, inbox_dir: Path, dedup: DedupWindow) -> list[Path]:
    """Publish spool files left by a killed collector, their torn last line cut off.

    Only acknowledged lines are sure to be whole, and every acknowledged line was fsynced, so
    what is cut was never acknowledged. The ids seed the window: an SDK retries the batch whose
    answer the crash swallowed, and that retry must not store the same messages twice.
    """
    published: list[Path] = []
    for path in sorted(spool_dir.iterdir()):
        creating = path.name.startswith(f".{SPOOL_PREFIX}") and path.name.endswith(".creating")
        if not (creating or (path.name.startswith(SPOOL_PREFIX) and path.suffix == ".jsonl")):
            continue
        fd = os.open(path, os.O_RDWR)
        try:
            if not try_lock(fd):
                continue  # a live collector's file
            if truncate_incomplete_tail(fd) == 0 or creating:
                path.unlink()
                continue
            remember_ids(path, dedup)
            published.append(publish_file(path, inbox_dir, inbox_name()))
        finally:
            os.close(fd)
    if published:
        log.info("recovered %d spool file(s) into %s", len(published), inbox_dir)
    return published
