"""Parse claimed inbox files ahead of landing, in worker processes, while the landing process
writes the files parsed before them.

Survey, form and privacy files are parsed in Python, record by record (vendor layouts, nested
payloads, names split by `nameparser`): at 1M generated people that is about two thirds of their
landing time, on one core. A backlog of files is parsed on every core instead; each file is still
landed, ledgered and released in inbox order by the one landing process, so what the lake holds
and how a crashed run resumes do not change. Fewer than MIN_FILES files, or under MIN_BYTES, are
parsed in-process: starting a worker (a fresh interpreter importing pandas and the parsers, about
2 s) costs more than it saves there.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Generic, TypeVar

from uds_pipelines.lib.worker_pool import default_workers, spawn_pool

log = logging.getLogger(__name__)

# Fewer or smaller files are parsed in the landing process: below about 16 MB the parse takes a
# few seconds (forms about 0.12 s per MB, surveys about 0.8 s), what two workers cost to start.
MIN_FILES = 8
MIN_BYTES = 16 * 2**20
AHEAD_PER_WORKER = 2  # parsed files waiting to be landed stay few: memory stays flat
Parsed = TypeVar("Parsed")


class ParseAhead(Generic[Parsed]):
    """`parse(path)` for the files given to `start`, computed ahead in worker processes (or here,
    for a few small files); `result(path)` returns each in turn. A context manager: the workers stop on
    exit, parses not collected yet are cancelled."""

    def __init__(self, parse: Callable[[Path], Parsed], workers: int | None = None):
        self._parse = parse  # a picklable, module-level function (or partial of one)
        self._workers = default_workers() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None
        self._waiting: deque[Path] = deque()
        self._pending: dict[Path, Future] = {}
        self.parsed_in_workers = 0

    def start(self, paths: list[Path]) -> None:
        if self._workers < 2 or len(paths) < MIN_FILES or sum(_size(p) for p in paths) < MIN_BYTES:
            return
        self._pool = spawn_pool(self._workers, "parsing")
        if self._pool is None:
            return
        self._waiting.extend(paths)
        self._fill()

    def result(self, path: Path) -> Parsed:
        """The parse of `path`; parsed here if it was not given to `start` or its worker died (a
        dead worker breaks the pool: the files after it are parsed here too)."""
        future = self._pending.pop(path, None)
        self._fill()
        if future is None:
            return self._parse(path)
        try:
            parsed = future.result()
        except Exception as exc:  # noqa: BLE001 - a dead worker (killed, out of memory): parse here
            log.warning("parse worker failed on %s (%s): parsing it in the landing process", path.name,
                        type(exc).__name__)  # fmt: skip
            return self._parse(path)
        self.parsed_in_workers += 1
        return parsed

    def _fill(self) -> None:
        if self._pool is None:
            return
        while self._waiting and len(self._pending) < self._workers * AHEAD_PER_WORKER:
            path = self._waiting.popleft()
            try:
                self._pending[path] = self._pool.submit(self._parse, path)
            except RuntimeError:  # the pool broke: the rest are parsed here, one by one
                self._waiting.clear()

    def __enter__(self) -> ParseAhead[Parsed]:
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # gone: its parse reports why
        return 0
