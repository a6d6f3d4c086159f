"""The one landing flow every inbox source goes through: claim, hash, skip content already
landed, land (format specific, suppression gate included), write the ledger, release the inbox file.

Sources differ only in how a batch of claimed files becomes lake rows (`BatchLander`): parsed
sources land one file at a time, Stripe lands every new file as one DuckDB batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import lake
from uds_pipelines.lib.ingest import inbox


@dataclass(frozen=True)
class ClaimedFile:
    """An inbox file moved into `.landing/`, with content not landed before."""

    path: Path
    sha256: str
    size_bytes: int


@dataclass
class LandedBatch:
    rows: list[dict]  # one ledger row per file (see `file_row`), optionally with an "info" entry
    preview: pd.DataFrame | None = None


BatchLander = Callable[[list[ClaimedFile]], LandedBatch]


@dataclass
class LandingSummary:
    files: list[dict] = field(default_factory=list)
    records_landed: int = 0
    records_quarantined: int = 0
    duplicate_files: int = 0
    vanished_files: int = 0
    landed_frames: list[pd.DataFrame] = field(default_factory=list)

    @property
    def records_read(self) -> int:
        return sum(f["records_read"] for f in self.files)

    @property
    def duplicates_skipped(self) -> int:
        return sum(f["duplicates_skipped"] for f in self.files)

    @property
    def new_files(self) -> list[dict]:
        return [f for f in self.files if not f.get("duplicate_file")]


def land_inbox_files(
    source: str,
    paths: list[Path],
    lake_dir: Path,
    land_batch: BatchLander,
    *,
    one_batch: bool = False,
    claimed_ahead: Callable[[list[ClaimedFile]], None] | None = None,
) -> LandingSummary:
    """Claim each file, skip content already landed, land the rest and record them in the ledger.

    By default each file is landed, ledgered and released before the next is claimed; with
    `one_batch`, every new file is claimed first and landed together; with `claimed_ahead`, every
    new file is claimed first, handed to it (a parser pool starts on them), then landed one by one.
    Batch names derive from content hashes, so a run killed half way and re-run rewrites the same
    files instead of duplicating rows; the ledger row comes after the data and marks the file done
    (files a dead run claimed go back to the inbox at the next run, `inbox.release_stale_claims`).
    """
    summary = LandingSummary()
    known = inbox.landed_hashes(lake_dir, source)
    batch: list[ClaimedFile] = []
    for waiting in paths:
        claimed = _claim_new(waiting, known, summary)
        if claimed is None:
            continue
        batch.append(claimed)
        if not one_batch and claimed_ahead is None:
            _land_batch(source, batch, lake_dir, land_batch, summary)
            batch = []
    if claimed_ahead is not None and not one_batch:
        claimed_ahead(batch)
        for claimed in batch:
            _land_batch(source, [claimed], lake_dir, land_batch, summary)
    elif batch:
        _land_batch(source, batch, lake_dir, land_batch, summary)
    return summary


def _claim_new(waiting: Path, known: set[str], summary: LandingSummary) -> ClaimedFile | None:
    path = inbox.claim(waiting)
    if path is None:
        summary.vanished_files += 1  # renamed away while queued: its new name is another file
        return None
    sha = lake.sha256_file(path)
    size = path.stat().st_size
    if sha in known:
        summary.duplicate_files += 1
        summary.files.append(file_row(path.name, sha, size, 0, 0, 0, duplicate=True))
        inbox.finish(path)
        return None
    known.add(sha)
    return ClaimedFile(path, sha, size)


def _land_batch(
    source: str, batch: list[ClaimedFile], lake_dir: Path, land_batch: BatchLander, summary: LandingSummary
) -> None:
    landed = land_batch(batch)
    inbox.write_ledger_rows(lake_dir, source, landed.rows, batch[0].sha256[:24])
    for row in landed.rows:
        summary.files.append(row)
        summary.records_landed += row["records_landed"]
        summary.records_quarantined += row["records_quarantined"]
    if landed.preview is not None and not summary.landed_frames:
        summary.landed_frames.append(landed.preview)  # one frame is enough; memory stays flat
    for claimed in batch:
        inbox.finish(claimed.path)


def file_row(name, sha, size, read, landed, quarantined, duplicates=0, duplicate: bool = False) -> dict:
    """A file's ledger row (`duplicate_file` marks content already landed; it is not written)."""
    return {
        "file_name": name,
        "sha256": sha,
        "size_bytes": size,
        "records_read": read,
        "records_landed": landed,
        "records_quarantined": quarantined,
        "duplicates_skipped": duplicates,
        "duplicate_file": duplicate,
    }
