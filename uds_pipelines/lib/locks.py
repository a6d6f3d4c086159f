"""Landing locks: one landing of a source at a time across processes, and erasure excluding all.

Below every domain, because landing (ingest) and erasure (privacy) both take them, and privacy sits
below ingest in the import layers (the suppression gate at landing reads privacy's list).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterable, Iterator
from pathlib import Path

# every inbox source; erasure holds all their locks so no batch lands between erasure and its scan
INBOX_SOURCES = ("stripe", "surveys", "forms", "privacy", "events")


@contextlib.contextmanager
def landing_lock(lock_dir: Path, source: str) -> Iterator[None]:
    """One landing of a source at a time across processes (a sensor run and `uds-run` may overlap);
    the second waits, then finds the files it was asked for already landed and removed.

    `lock_dir` is local (`<UDS_DATA_DIR>/.locks`): flock needs a real filesystem, so runs that share
    an object-storage lake must also share that folder or be serialised by the run queue."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"landing-{source}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def landing_locks(lock_dir: Path, sources: Iterable[str] = INBOX_SOURCES) -> Iterator[None]:
    """Hold the landing locks of several sources, always taken in the same order (no deadlock)."""
    with contextlib.ExitStack() as stack:
        for source in sorted(sources):
            stack.enter_context(landing_lock(lock_dir, source))
        yield
