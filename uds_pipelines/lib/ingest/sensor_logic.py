"""Deciding what an inbox sensor tick asks for, from file names and stats alone."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from uds_pipelines.lib.ingest.inbox import list_inbox


@dataclass(frozen=True)
class PlannedRun:
    run_key: str
    files: list[str]


def plan_inbox_runs(
    folder: Path, source: str, cursor: str | None, *, files_per_run: int = 500, max_runs: int = 4
) -> tuple[list[PlannedRun], str]:
    """Group files not yet requested into runs; returns the runs and the new JSON cursor.

    The cursor remembers the `name:size:mtime` key of every file already requested that is still
    in the inbox, so it stays as small as the inbox. The run key hashes those keys: a daemon
    restart or a repeated tick asks for nothing twice. A file that arrives during a run is new
    to the cursor and is requested by the next tick. Files of types the source does not accept
    are requested too, so landing quarantines them rather than leaving them unexplained.
    """
    requested: dict[str, str] = json.loads(cursor)["requested"] if cursor else {}
    waiting = list_inbox(folder)
    present = {f.name: f.key for f in waiting}
    requested = {name: key for name, key in requested.items() if present.get(name) == key}
    new = [f for f in waiting if requested.get(f.name) != f.key]
    runs = []
    for start in range(0, min(len(new), files_per_run * max_runs), files_per_run):
        chunk = new[start : start + files_per_run]
        digest = hashlib.sha256("\n".join(f.key for f in chunk).encode()).hexdigest()[:32]
        runs.append(PlannedRun(run_key=f"{source}-{digest}", files=[f.name for f in chunk]))
        requested.update({f.name: f.key for f in chunk})
    return runs, json.dumps({"requested": requested}, sort_keys=True)
