"""Worker processes for the Python-bound parts of a stage (parsing, phone validation).

Spawned, never forked: the stage process holds DuckDB's threads, which a fork would copy
mid-flight. A process that may not have children (a daemonic one) gets no pool and its caller
does the work itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger(__name__)

MAX_WORKERS = 4


def default_workers() -> int:
    """One per core this process may use, up to MAX_WORKERS."""
    return min(len(os.sched_getaffinity(0)), MAX_WORKERS)


def spawn_pool(workers: int, purpose: str) -> ProcessPoolExecutor | None:
    """A pool of `workers` spawned processes, or None when this process cannot start children
    (logged with `purpose`, what the caller then does in-process)."""
    try:
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    except (RuntimeError, AssertionError) as exc:  # a daemonic or still-starting process
        log.info("%s in this process: %s", purpose, exc)
        return None
