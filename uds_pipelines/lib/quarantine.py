"""Quarantine: records that cannot be used, kept with the reason (CONTRACT section 4)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import catalog, lake, lake_views

MAX_RAW_CHARS = 100_000


@dataclass(frozen=True)
class QuarantineRecord:
    """One unusable record: `position` is the line (JSONL), row (CSV) or index (JSON list), 1-based."""

    source: str
    source_file: str
    position: int
    reason: str
    raw: str | None

    def as_row(self) -> dict:
        raw = self.raw if self.raw is None or len(self.raw) <= MAX_RAW_CHARS else self.raw[:MAX_RAW_CHARS]
        return {
            "source": self.source,
            "source_file": self.source_file,
            "position": int(self.position),
            "reason": self.reason,
            "raw": raw,
        }


def decode_raw(data: bytes) -> str:
    """Text for the `raw` column; undecodable bytes are kept visible rather than lost."""
    return data.decode("utf-8", errors="backslashreplace")


def write_quarantine(
    records: list[QuarantineRecord], lake_dir: Path, batch_name: str | None = None
) -> Path | None:
    """Append `records` to the `quarantine` table as one new batch file; None when empty."""
    if not records:
        return None
    columns = list(catalog.table("quarantine").columns)
    frame = pd.DataFrame([r.as_row() for r in records], columns=columns[:-1])
    frame["position"] = frame["position"].astype("int64")
    frame["quarantined_at"] = pd.Timestamp.now(tz="UTC")
    name = batch_name or lake.new_batch_name("quarantine")
    return lake_views.write_arrow(lake_dir, "quarantine", frame[columns], batch_name=name)
