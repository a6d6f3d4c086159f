"""Durable append-only spool for received events, rotated into the inbox by atomic rename."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-process guard, single receiver assumed
    fcntl = None  # type: ignore[assignment]

from uds_pipelines.lib.lake import fsync_dir, temp_path_for
from uds_pipelines.lib.storage import make_private_dirs

log = logging.getLogger("uds_pipelines.webhooks")

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_AGE_SECONDS = 10.0
SPOOL_PREFIX = "spool-"


def spool_dir_for(data_dir: Path, source: str = "stripe") -> Path:
    return data_dir / "spool" / source


def inbox_dir_for(data_dir: Path, source: str = "stripe") -> Path:
    return data_dir / "inbox" / source


def rotated_name(prefix: str = "webhook", suffix: str = ".jsonl") -> str:
    return f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex}{suffix}"


def publish_file(src: Path, dest_dir: Path, name: str) -> Path:
    """Move a complete, closed file into `dest_dir` so readers see all of it or nothing.

    The data is fsynced before the rename and both directories after it, so after a crash the
    file is either still at `src` or whole at its destination.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / name
    with open(src, "rb+") as handle:
        os.fsync(handle.fileno())
    try:
        os.rename(src, final)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # Different filesystems: copy to a hidden temp beside the target, then rename within it.
        tmp = temp_path_for(final)  # tagged with this process, so a killed copy is swept later
        try:
            shutil.copyfile(src, tmp)
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.rename(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        fsync_dir(dest_dir)
        src.unlink()
    fsync_dir(dest_dir)
    fsync_dir(src.parent)
    return final


def try_lock(fd: int) -> bool:
    """Take the file's exclusive flock without waiting; a live server holds its own spool file's."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def truncate_incomplete_tail(fd: int) -> int:
    """Drop bytes after the last newline (never acknowledged); returns the remaining size."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0
    chunk = 64 * 1024
    pos = size
    while pos > 0:
        start = max(0, pos - chunk)
        block = os.pread(fd, pos - start, start)
        idx = block.rfind(b"\n")
        if idx >= 0:
            keep = start + idx + 1
            break
        pos = start
    else:
        keep = 0
    if keep != size:
        os.ftruncate(fd, keep)
        os.fsync(fd)
    return keep


def recover_spool(spool_dir: Path, inbox_dir: Path) -> list[Path]:
    """Move leftover spool files of dead receivers into the inbox; files a live receiver holds are skipped."""
    published: list[Path] = []
    if not spool_dir.is_dir():
        return published
    for path in sorted(spool_dir.iterdir()):
        is_spool = path.name.startswith(SPOOL_PREFIX) and path.suffix == ".jsonl"
        is_creating = path.name.startswith(f".{SPOOL_PREFIX}") and path.name.endswith(".creating")
        if not (is_spool or is_creating) or not path.is_file():
            continue
        fd = os.open(path, os.O_RDWR)
        try:
            if not try_lock(fd):
                continue
            remaining = truncate_incomplete_tail(fd)
            if remaining == 0 or is_creating:
                path.unlink()
                continue
            published.append(publish_file(path, inbox_dir, rotated_name()))
        finally:
            os.close(fd)
    if published:
        log.info("recovered %d spool file(s) into %s", len(published), inbox_dir)
    return published


class Spool:
    """One receiver's spool file: append+fsync per event (group commit), rotate by size or age.

    `append` returns only once the line is on stable storage; callers acknowledge after that.
    An exclusive flock marks the file as owned, so recovery never steals a live receiver's file.
    """

    def __init__(
        self,
        spool_dir: Path,
        inbox_dir: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
    ) -> None:
        self.spool_dir = spool_dir
        self.inbox_dir = inbox_dir
        self.max_bytes = max_bytes
        self.max_age_seconds = max_age_seconds
        self._lock = threading.Lock()  # guards writes, the open file and rotation
        self._sync_lock = threading.Lock()  # one fsync at a time; later writers ride along
        self._fd: int | None = None
        self._path: Path | None = None
        self._generation = 0
        self._written = 0
        self._synced = 0
        self._first_append_at: float | None = None

    def start(self) -> list[Path]:
        """Create the folders and publish whatever a crashed receiver left behind."""
        make_private_dirs(self.spool_dir)  # spooled events hold personal data in clear
        self.inbox_dir.mkdir(parents=True, exist_ok=True)
        return recover_spool(self.spool_dir, self.inbox_dir)

    def _open(self) -> None:
        stem = f"{SPOOL_PREFIX}{os.getpid()}-{uuid.uuid4().hex}"
        creating = self.spool_dir / f".{stem}.creating"
        fd = os.open(creating, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try_lock(fd)
        # Renamed only once locked, so recovery in another process never sees it unlocked.
        final = self.spool_dir / f"{stem}.jsonl"
        os.rename(creating, final)
        fsync_dir(self.spool_dir)
        self._fd, self._path = fd, final
        self._written = self._synced = 0
        self._first_append_at = None

    def append(self, line: bytes) -> None:
        """Append one newline-terminated record and return once it is durable."""
        if not line.endswith(b"\n") or b"\n" in line[:-1]:
            raise ValueError("a spool record is exactly one newline-terminated line")
        with self._lock:
            if self._fd is None:
                self._open()
            assert self._fd is not None
            before = self._written
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError:
                # A torn line would corrupt every later line: cut it off before failing.
                os.ftruncate(self._fd, before)
                raise
            self._written += len(line)
            if self._first_append_at is None:
                self._first_append_at = time.monotonic()
            generation, end = self._generation, self._written
        with self._sync_lock:
            # A rotation since our write fsynced the file already; a later fsync covered us too.
            if self._generation == generation and self._synced < end and self._fd is not None:
                target = self._written
                os.fsync(self._fd)
                self._synced = max(self._synced, target)
        if end >= self.max_bytes:
            self.rotate(only_if_due=True)

    def due(self) -> bool:
        if self._fd is None or self._written == 0:
            return False
        if self._written >= self.max_bytes:
            return True
        started = self._first_append_at
        return started is not None and time.monotonic() - started >= self.max_age_seconds

    def rotate(self, *, only_if_due: bool = False) -> Path | None:
        """Publish the current spool file into the inbox; the next append opens a fresh one."""
        with self._lock, self._sync_lock:
            if only_if_due and not self.due():
                return None
            if self._fd is None or self._path is None or self._written == 0:
                return None
            fd, path = self._fd, self._path
            os.fsync(fd)
            published = publish_file(path, self.inbox_dir, rotated_name())
            os.close(fd)
            self._fd = self._path = None
            self._generation += 1
            self._written = self._synced = 0
            self._first_append_at = None
        log.info("rotated spool into %s", published.name)
        return published

    def close(self) -> Path | None:
        """Publish what is spooled and release the file (graceful shutdown)."""
        published = self.rotate()
        with self._lock, self._sync_lock:
            if self._fd is not None and self._path is not None:
                os.close(self._fd)
                self._path.unlink(missing_ok=True)
                self._fd = self._path = None
        return published
