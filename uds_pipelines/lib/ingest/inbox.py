"""The inbox: listing complete files cheaply (sensor ticks) and the ledger of landed files."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import catalog, lake, lake_views

ACCEPTED_SUFFIXES = {
    "stripe": (".json", ".jsonl"),
    "surveys": (".csv", ".xlsx", ".tsv", ".txt"),
    "forms": (".json", ".jsonl", ".csv"),
    "privacy": (".json", ".jsonl", ".csv"),
    "events": (".jsonl", ".ndjson"),
}


@dataclass(frozen=True)
class InboxFile:
    name: str
    path: Path
    size: int
    mtime_ns: int

    @property
    def key(self) -> str:
        """Identity of a file version without reading it: name, size and modification time."""
        return f"{self.name}:{self.size}:{self.mtime_ns}"


def is_candidate(name: str) -> bool:
    """Writers write elsewhere (or to a dot-file / `.tmp` / `.part`) and rename in."""
    return not name.startswith((".", "~")) and not name.endswith((".tmp", ".part", ".partial", ".crdownload"))


def is_accepted(source: str, name: str) -> bool:
    return name.lower().endswith(ACCEPTED_SUFFIXES[source])


def list_inbox(folder: Path) -> list[InboxFile]:
    """Complete files waiting in `folder`, oldest first; only names and stats, never contents."""
    if not folder.is_dir():
        return []
    files = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.is_file(follow_symlinks=False) or not is_candidate(entry.name):
                continue
            try:
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # renamed away between listing and stat
                continue
            files.append(InboxFile(entry.name, Path(entry.path), stat.st_size, stat.st_mtime_ns))
    files.sort(key=lambda f: (f.mtime_ns, f.name))
    return files


def select_waiting(folder: Path, files: Sequence[str] = (), max_files: int = 0) -> list[Path]:
    """The waiting files a landing run was asked for (`files`, by name; empty means all), oldest
    first, at most `max_files` of them (0: no cap)."""
    waiting = list_inbox(folder)
    if files:
        wanted = set(files)
        waiting = [f for f in waiting if f.name in wanted]
    return [f.path for f in (waiting[:max_files] if max_files else waiting)]


def landed_hashes(lake_dir: Path, source: str) -> set[str]:
    """sha256 of every file of `source` already landed (the same content lands once)."""
    con = lake.duckdb_connection("512MB")
    try:
        lake_views.register(con, lake_dir, ["landed_files"])
        rows = con.execute("SELECT DISTINCT sha256 FROM landed_files WHERE source = ?", [source]).fetchall()
    finally:
        con.close()
    return {row[0] for row in rows}


def write_ledger_rows(lake_dir: Path, source: str, rows: list[dict], batch_key: str) -> Path | None:
    """Record landed files; written after the data so a crash in between simply re-lands the
    same deterministic batch names on the next run."""
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    frame["source"] = source
    frame["landed_at"] = pd.Timestamp.now(tz="UTC")
    for column in (
        "size_bytes",
        "records_read",
        "records_landed",
        "records_quarantined",
        "duplicates_skipped",
    ):
        frame[column] = frame.get(column, 0)
        frame[column] = frame[column].fillna(0).astype("int64")
    frame = frame[list(catalog.table("landed_files").columns)]
    return lake_views.write_arrow(lake_dir, "landed_files", frame, batch_name=f"{source}-{batch_key}.parquet")


CLAIM_DIR = ".landing"


def claim(path: Path) -> Path | None:
    """Move a waiting file into the hidden `.landing/` folder beside it before reading it, so a
    writer renaming a new version over the same name cannot be deleted unread. The name is kept
    (it is the record's `source_file`). None when the file is gone or a claim of that name is pending."""
    claim_dir = path.parent / CLAIM_DIR
    claim_dir.mkdir(exist_ok=True)
    target = claim_dir / path.name
    if target.exists():
        return None
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    return target


def release_stale_claims(folder: Path) -> int:
    """Put back files claimed by a run that died before landing them (call under the landing lock)."""
    claim_dir = folder / CLAIM_DIR
    if not claim_dir.is_dir():
        return 0
    released = 0
    for path in claim_dir.iterdir():
        target = folder / path.name
        if target.exists():  # a newer file took the name meanwhile: keep both
            target = folder / f"{path.stem}.recovered-{path.stat().st_mtime_ns}{path.suffix}"
        os.rename(path, target)
        released += 1
    return released


def finish(claimed: Path) -> None:
    """Remove a landed file from the inbox (its records are in the lake now)."""
    claimed.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # other claims still pending
        claimed.parent.rmdir()
