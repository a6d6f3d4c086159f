"""Erase persons from files under exports/: audience CSVs (+ manifests) and access-request JSON."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

from uds_pipelines.lib import lake, storage
from uds_pipelines.lib.privacy.needle_scan import NeedleScanner
from uds_pipelines.lib.privacy.needles import audience_hashes, sha256_hex
from uds_pipelines.lib.privacy.requests import Subject
from uds_pipelines.lib.privacy.variants import subject_needles

TEXT_SUFFIXES = (".csv", ".json", ".jsonl", ".ndjson")


@dataclass
class ExportChanges:
    rows_removed: dict[str, int] = field(default_factory=dict)  # relative path -> rows
    files_deleted: list[str] = field(default_factory=list)
    bytes_written: int = 0
    per_request: dict[str, dict[str, int]] = field(default_factory=dict)


def row_matches(texts: list[str], scanner: NeedleScanner | None) -> list[bool]:
    """Whether each text holds one of the `scanner`'s needles, case-insensitively, in order."""
    if scanner is None or not texts:
        return [False] * len(texts)
    hits = set(scanner.text_rows(texts).tolist())
    return [i in hits for i in range(len(texts))]


def hashed_values(subjects: list[Subject]) -> set[str]:
    """SHA-256 hex of the persons' emails and phones as every audience format carries them.

    Google Customer Match files hold no id of ours, so these hashes are how their rows are found.
    """
    out: set[str] = set()
    for s in subjects:
        values = s.values("email") | s.values("phone") | {v.lower() for v in s.raw_values}
        out |= {sha256_hex(v.strip().lower()) for v in values}
        for phone in s.values("phone"):
            out |= audience_hashes(phone)
    return out


def text_owner(text: str, subjects: list[Subject]) -> str:
    """The request whose needle occurs in `text` (plain substring test; only for rows already matched)."""
    low = text.lower()
    for subject in subjects:
        if any(n in low for n in subject_needles(subject)):
            return subject.request_id
    return subjects[0].request_id if subjects else "_unknown"


def _write_text_atomic(final: Path, text: str) -> int:
    tmp = lake.temp_path_for(final)
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:  # local temp file
            handle.write(text)
        lake.atomic_replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final.stat().st_size


def _delete(path: Path) -> None:
    storage.remove(path)


def erase_exports(exports_dir: Path, subjects: list[Subject], scanner: NeedleScanner | None) -> ExportChanges:
    """Rewrite CSV/JSONL files without the persons' rows; delete JSON documents about them.

    An audience CSV row goes when a cell is one of their customer ids (`customer_id`, Meta's
    `extern_id`) or one of their hashes, or any needle matches; the
    folder's manifest.json then has its row and exported counts lowered and its sha256 refreshed.
    """
    changes = ExportChanges()
    if not exports_dir.is_dir():
        return changes
    customers = {c: s.request_id for s in subjects for c in s.customer_ids}
    customers |= {h: s.request_id for s in subjects for h in hashed_values([s])}
    for path in storage.walk_files(exports_dir):
        name = path.name
        if name.startswith(".") or not name.lower().endswith(TEXT_SUFFIXES) or name == "manifest.json":
            continue
        rel = storage.relative(path, exports_dir)
        if name.lower().endswith(".csv"):
            removed = _erase_csv(path, subjects, customers, scanner, changes)
            if removed:
                changes.rows_removed[rel] = removed
                _update_manifest(path, removed)
        elif name.lower().endswith((".jsonl", ".ndjson")):
            removed = _erase_lines(path, customers, scanner, changes)
            if removed:
                changes.rows_removed[rel] = removed
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
            owner = next((rid for c, rid in customers.items() if c in text), None)
            if owner or row_matches([text], scanner)[0]:
                _delete(path)
                changes.files_deleted.append(rel)
                bucket = changes.per_request.setdefault(owner or text_owner(text, subjects), {})
                bucket["exports_files"] = bucket.get("exports_files", 0) + 1
    return changes


def _erase_csv(
    path: Path,
    subjects: list[Subject],
    customers: dict[str, str],
    scanner: NeedleScanner | None,
    changes: ExportChanges,
) -> int:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) <= 1:
        return 0
    header, body = rows[0], rows[1:]
    text_hits = row_matches(["\n".join(r) for r in body], scanner)
    kept: list[list[str]] = []
    removed = 0
    for row, hit in zip(body, text_hits, strict=True):
        owner = next((customers[c] for c in row if c in customers), None)
        if hit or owner:
            removed += 1
            rid = owner or text_owner("\n".join(row), subjects)
            bucket = changes.per_request.setdefault(rid, {})
            bucket["exports"] = bucket.get("exports", 0) + 1
        else:
            kept.append(row)
    if not removed:
        return 0
    buffer = StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(kept)
    changes.bytes_written += _write_text_atomic(path, buffer.getvalue())
    return removed


def _erase_lines(
    path: Path,
    customers: dict[str, str],
    scanner: NeedleScanner | None,
    changes: ExportChanges,
) -> int:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    hits = row_matches(lines, scanner)
    kept = [
        line
        for line, hit in zip(lines, hits, strict=True)
        if not hit and not any(c in line for c in customers)
    ]
    removed = len(lines) - len(kept)
    if removed:
        changes.bytes_written += _write_text_atomic(path, "".join(kept))
    return removed


def _update_manifest(csv_path: Path, removed: int) -> None:
    manifest_path = csv_path.parent / "manifest.json"
    if not manifest_path.exists():
        return
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(manifest, dict) or manifest.get("file") != csv_path.name:
        return
    if isinstance(manifest.get("rows"), int):
        manifest["rows"] = max(0, manifest["rows"] - removed)
    counts = manifest.get("counts")
    if isinstance(counts, dict):
        for key in ("exported", "in_segment"):
            if isinstance(counts.get(key), int):
                counts[key] = max(0, counts[key] - removed)
    manifest["sha256"] = lake.sha256_file(csv_path)
    manifest["erased_rows"] = int(manifest.get("erased_rows", 0)) + removed
    _write_text_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")
