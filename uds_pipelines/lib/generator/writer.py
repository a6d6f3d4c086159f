"""Atomic file output: every inbox file appears complete or not at all (the sensor sees no halves)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

BUFFER_BYTES = 8 << 20


class Inbox:
    """Writes files under `<out>/inbox/<source>/` via a hidden temp name and a rename."""

    def __init__(self, out_dir: Path) -> None:
        self.root = out_dir / "inbox"
        self.files_written: list[str] = []

    def path(self, relative: str) -> Path:
        return self.root / relative

    def write_bytes(self, relative: str, data: bytes | list[bytes]) -> str:
        final = self.path(relative)
        final.parent.mkdir(parents=True, exist_ok=True)
        # The temp file lives outside the inbox so a sensor can never pick up a partial file.
        staging = self.root.parent / ".incoming"
        staging.mkdir(parents=True, exist_ok=True)
        tmp = staging / relative.replace("/", "__")
        with open(tmp, "wb", buffering=BUFFER_BYTES) as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                handle.writelines(data)
        os.replace(tmp, final)
        self.files_written.append(relative)
        return relative

    def write_text(self, relative: str, text: str) -> str:
        return self.write_bytes(relative, text.encode("utf-8"))

    def write_json(self, relative: str, obj: object, indent: int | None = 2) -> str:
        return self.write_text(relative, json.dumps(obj, ensure_ascii=False, indent=indent) + "\n")

    def write_jsonl(self, relative: str, objs: list[object]) -> str:
        lines = [json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n" for o in objs]
        return self.write_text(relative, "".join(lines))

    def write_csv(self, relative: str, rows: list[list[object]], bom: bool = False) -> str:
        buffer = io.StringIO()
        # Survey tools export CRLF line endings (csv's default), which parsers must cope with.
        csv.writer(buffer).writerows(rows)
        data = buffer.getvalue().encode("utf-8")
        return self.write_bytes(relative, (b"\xef\xbb\xbf" + data) if bom else data)


def write_parquet(table: pa.Table, final: Path) -> None:
    """Ground-truth tables: temp file + rename, no wall-clock metadata so output is reproducible."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp"
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, final)
