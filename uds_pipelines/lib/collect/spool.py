"""Durable event spool: group commit, messageId de-duplication, rotation into inbox/events/, recovery.

Same pattern as the Stripe webhook spool (`lib/webhooks/spool.py`, whose publishing and torn-tail
helpers it reuses): append to a private, flock-owned spool file, fsync, and only then let the
caller acknowledge; publish the file into the inbox by rename once it is big or old enough, so
the landing sensor only ever sees complete files. A request's lines go in with one write, and
one fsync covers every request written before it ran (group commit), never one per event.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
import uuid
from pathlib import Path

from uds_pipelines.lib.collect.dedup import DedupWindow
from uds_pipelines.lib.collect.recovery import (
    SPOOL_PREFIX,
    inbox_dir_for,
    inbox_name,
    recover_spool,
    seed_from_inbox,
    spool_dir_for,
    try_lock,
)
from uds_pipelines.lib.storage import file_mode, make_private_dirs
from uds_pipelines.lib.webhooks.spool import publish_file

log = logging.getLogger("uds_pipelines.collect")

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_AGE_SECONDS = 10.0
DEFAULT_SEED_SECONDS = 60.0  # see `seed_from_inbox`

# (source, messageId, stored line)
Record = tuple[str, str, bytes]
__all__ = ["EventSpool", "Record", "inbox_dir_for", "spool_dir_for"]


class EventSpool:
    """One collector's spool file; `commit` returns once its lines are on stable storage."""

    def __init__(
        self,
        spool_dir: Path,
        inbox_dir: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
        dedup: DedupWindow | None = None,
        seed_seconds: float = DEFAULT_SEED_SECONDS,
    ) -> None:
        self.spool_dir, self.inbox_dir = spool_dir, inbox_dir
        self.max_bytes, self.max_age_seconds = max_bytes, max_age_seconds
        self.dedup = dedup if dedup is not None else DedupWindow()
        self.seed_seconds = seed_seconds
        # Lock order everywhere: _sync_lock before _lock. _lock guards the file, offsets and
        # window; _sync_lock lets one thread fsync while the others keep writing behind it.
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self._generation = 0
        self._failed: set[int] = set()
        self._written = self._synced = 0
        self._unsynced: list[tuple[str, str]] = []  # ids written but not yet covered by an fsync
        self._first_write_at: float | None = None

    def start(self) -> list[Path]:
        """Create the folders (private: messages are personal data), seed the id window from
        recent inbox files and publish what a killed collector left in the spool."""
        make_private_dirs(self.spool_dir)
        make_private_dirs(self.inbox_dir)
        seed_from_inbox(self.inbox_dir, self.dedup, self.seed_seconds)
        return recover_spool(self.spool_dir, self.inbox_dir, self.dedup)

    def _open(self) -> None:
        stem = f"{SPOOL_PREFIX}{os.getpid()}-{uuid.uuid4().hex}"
        creating = self.spool_dir / f".{stem}.creating"
        fd = os.open(creating, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, file_mode())
        os.fchmod(fd, file_mode())  # the umask must not widen or narrow it
        try_lock(fd)
        # Renamed only once locked, so another process's recovery never sees it unlocked.
        final = self.spool_dir / f"{stem}.jsonl"
        os.rename(creating, final)
        self._fd, self._path = fd, final
        self._written = self._synced = 0
        self._first_write_at = None

    def commit(self, records: list[Record]) -> int:
        """Write the records not seen before in one go, wait for an fsync covering them; returns how many."""
        with self._lock:
            fresh = [r for r in records if self.dedup.add(r[0], r[1])]
            if fresh:
                try:
                    self._write(b"".join(r[2] for r in fresh))
                except OSError:
                    for source, message_id, _ in fresh:
                        self.dedup.forget(source, message_id)
                    raise
                self._unsynced.extend((s, m) for s, m, _ in fresh)
            # A duplicate waits for the fsync too: its first copy may still be in flight.
            generation, end = self._generation, self._written
        self._sync(generation, end)
        if end >= self.max_bytes:
            self.rotate(only_if_due=True)
        return len(fresh)

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            self._open()
        assert self._fd is not None
        before = self._written
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            os.ftruncate(self._fd, before)  # a torn line would corrupt every later one
            raise
        self._written += len(data)
        if self._first_write_at is None:
            self._first_write_at = time.monotonic()

    def _sync(self, generation: int, end: int) -> None:
        with self._sync_lock:
            if generation in self._failed:
                raise OSError(errno.EIO, "spool file could not be synced")
            # A rotation since our write fsynced it already; so did an fsync that started later.
            if self._generation != generation or self._synced >= end:
                return
            with self._lock:
                fd, target, covered = self._fd, self._written, len(self._unsynced)
            assert fd is not None
            try:
                os.fsync(fd)
            except OSError:
                with self._lock:
                    self._abandon()
                raise
            self._synced = target
            with self._lock:
                del self._unsynced[:covered]

    def _abandon(self) -> None:
        """After a failed fsync nothing unsynced is trusted: forget its ids so retries store them
        again, and leave the file for recovery at the next start (landing de-duplicates exactly)."""
        for source, message_id in self._unsynced:
            self.dedup.forget(source, message_id)
        self._unsynced.clear()
        self._failed.add(self._generation)
        self._generation += 1
        if self._fd is not None:
            os.close(self._fd)
        self._fd = self._path = None
        self._written = self._synced = 0
        self._first_write_at = None

    def due(self) -> bool:
        if self._fd is None or self._written == 0:
            return False
        if self._written >= self.max_bytes:
            return True
        started = self._first_write_at
        return started is not None and time.monotonic() - started >= self.max_age_seconds

    def rotate(self, *, only_if_due: bool = False) -> Path | None:
        """Publish the current spool file into the inbox; the next commit opens a fresh one."""
        with self._sync_lock, self._lock:
            if only_if_due and not self.due():
                return None
            if self._fd is None or self._path is None or self._written == 0:
                return None
            os.fsync(self._fd)
            published = publish_file(self._path, self.inbox_dir, inbox_name())
            os.close(self._fd)
            self._fd = self._path = None
            self._generation += 1
            self._written = self._synced = 0
            self._unsynced.clear()
            self._first_write_at = None
        log.info("rotated spool into %s", published.name)
        return published

    def close(self) -> Path | None:
        """Publish what is spooled and drop the empty file (graceful shutdown)."""
        published = self.rotate()
        with self._sync_lock, self._lock:
            if self._fd is not None and self._path is not None:
                os.close(self._fd)
                self._path.unlink(missing_ok=True)
                self._fd = self._path = None
        return published
