"""Landing locks: one landing of a source at a time across processes, and erasure excluding all;
step locks: one run at a time of a step that keeps incremental state.

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
    with _exclusive(lock_dir / f"landing-{source}.lock"):
        yield


@contextlib.contextmanager
def step_lock(lock_dir: Path, step: str) -> Iterator[None]:
    """One run at a time of a step that reads its previous state and writes the next (Stripe
    staging, identity inputs, identity resolution, profiles, predictions): two at once would each
    merge into the state they read, and the later write would drop what only the other saw. The jobs'
    `uds/exclusive` tag serializes scheduled runs; a materialization started by hand carries no
    tag. The second waits."""
    with _exclusive(lock_dir / f"step-{step}.lock"):
        yield


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
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
