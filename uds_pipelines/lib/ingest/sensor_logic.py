"""Deciding what an inbox sensor tick asks for, from file names and stats alone."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from uds_pipelines.lib.ingest.inbox import list_inbox


@dataclass(frozen=True)
class PlannedRun:
    run_key: str
    files: list[str]


RETRY_AFTER_SECONDS = 15 * 60


def plan_inbox_runs(
    folder: Path,
    source: str,
    cursor: str | None,
    *,
    files_per_run: int = 500,
    max_runs: int = 4,
    now: float | None = None,
) -> tuple[list[PlannedRun], str]:
    """Group files not yet requested into runs; returns the runs and the new JSON cursor.

    The cursor remembers, for every file already requested that is still in the inbox, its
    `name:size:mtime` key, when it was last requested and how many times, so it stays as small
    as the inbox. The run key hashes the keys and the attempt: a daemon restart or a repeated
    tick asks for nothing twice. A file that arrives during a run is new to the cursor and is
    requested by the next tick. A file still waiting 15 minutes after its request (its run
    failed before landing it) is requested again under a new attempt number. Files of types the
    source does not accept are requested too, so landing quarantines them rather than leaving
    them unexplained.
    """
    now = time.time() if now is None else now
    requested: dict[str, list] = json.loads(cursor)["requested"] if cursor else {}
    waiting = list_inbox(folder)
    present = {f.name: f.key for f in waiting}
    requested = {name: entry for name, entry in requested.items() if present.get(name) == entry[0]}
    due = [f for f in waiting if f.name not in requested or now - requested[f.name][1] >= RETRY_AFTER_SECONDS]
    runs = []
    for start in range(0, min(len(due), files_per_run * max_runs), files_per_run):
        chunk = due[start : start + files_per_run]
        attempts = {f.name: requested.get(f.name, [None, 0, 0])[2] + 1 for f in chunk}
        material = "\n".join(f"{f.key}#{attempts[f.name]}" for f in chunk)
        digest = hashlib.sha256(material.encode()).hexdigest()[:32]
        runs.append(PlannedRun(run_key=f"{source}-{digest}", files=[f.name for f in chunk]))
        requested.update({f.name: [f.key, now, attempts[f.name]] for f in chunk})
    return runs, json.dumps({"requested": requested}, sort_keys=True)
