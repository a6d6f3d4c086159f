"""Reading *.json / *.jsonl / *.csv inbox files into positioned objects, streaming JSONL line by line."""

from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uds_pipelines.lib import safe_json
from uds_pipelines.lib.ingest.decoding import decode_bytes
from uds_pipelines.lib.quarantine import decode_raw

SUPPORTED_SUFFIXES = {".json", ".jsonl", ".ndjson", ".csv"}
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Item:
    """One record of a file: a JSON object / CSV row (`payload`), or why it could not be read (`reason`)."""

    position: int
    raw: str
    payload: dict[str, Any] | None = None
    reason: str | None = None


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def read_items(path: Path, info: dict) -> Iterator[Item]:
    """Items of `path` by file type; `info` receives format, encoding and the CSV header."""
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        info["format"] = "jsonl"
        with open(path, "rb") as handle:
            yield from _jsonl_items(handle, info)
        return
    data = path.read_bytes()
    if not data.strip():
        yield Item(0, decode_raw(data), reason="empty file")
        return
    if suffix == ".csv":
        info["format"] = "csv"
        yield from _csv_items(data, info)
    elif suffix == ".json":
        info["format"] = "json"
        yield from _json_items(data, info)
    else:
        yield Item(0, "", reason=f"unsupported file type: {suffix or '(none)'}")


def _json_items(data: bytes, info: dict) -> Iterator[Item]:
    offset = 3 if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[offset:].decode("utf-8")
    except UnicodeDecodeError as exc:
        yield Item(0, decode_raw(data), reason=f"invalid UTF-8 at byte {exc.start + offset}")
        return
    decoded = safe_json.decode(text)
    if not decoded.ok:
        if decoded.problem == "invalid JSON" and decoded.detail == "Extra data":
            # Several objects one per line in a .json file: read it as the JSONL it is.
            info["format"] = "jsonl (in a .json file)"
            yield from _jsonl_items(io.BytesIO(data), info)
            return
        where = f"line {decoded.line}" if decoded.line else None
        yield Item(0, text, reason=decoded.reason_at(where))
        return
    document = decoded.value
    if isinstance(document, dict):
        yield Item(1, text, payload=document)
    elif isinstance(document, list):
        info["json_list"] = len(document)
        for index, element in enumerate(document, start=1):
            raw = json.dumps(element, ensure_ascii=False)
            if isinstance(element, dict):
                yield Item(index, raw, payload=element)
            else:
                yield Item(
                    index, raw, reason=f"expected a JSON object at index {index}, got {_kind(element)}"
                )
    else:
        yield Item(0, text, reason=f"expected a JSON object or list, got {_kind(document)}")


def _jsonl_items(handle: io.BufferedIOBase, info: dict) -> Iterator[Item]:
    offset = 0
    for line_no, line in enumerate(handle, start=1):
        start, offset = offset, offset + len(line)
        if line_no == 1 and line.startswith(codecs.BOM_UTF8):
            line, start = line[3:], start + 3
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield Item(
                line_no, decode_raw(line.rstrip(b"\r\n")), reason=f"invalid UTF-8 at byte {start + exc.start}"
            )
            continue
        decoded = safe_json.decode(text)
        if not decoded.ok:
            yield Item(line_no, text, reason=decoded.reason_at(f"line {line_no}"))
            continue
        value = decoded.value
        if isinstance(value, dict):
            yield Item(line_no, text, payload=value)
        else:
            yield Item(line_no, text, reason=f"expected a JSON object on line {line_no}, got {_kind(value)}")


def _csv_row_text(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def _unique_header(cells: list[str]) -> list[str]:
    header: list[str] = []
    for index, cell in enumerate(cells, start=1):
        name = cell.strip() or f"column_{index}"
        candidate, n = name, 2
        while candidate in header:
            candidate, n = f"{name}_{n}", n + 1
        header.append(candidate)
    return header


def _csv_items(data: bytes, info: dict) -> Iterator[Item]:
    decoded = decode_bytes(data)
    info["encoding"] = decoded.decision
    text = decoded.text
    # The header line decides the delimiter: sniffing data rows is fooled by free text.
    first_line = next((line for line in text[:65536].splitlines() if line.strip()), "")
    delimiter = max(",;\t|", key=lambda d: (first_line.count(d), d == ","))
    info["delimiter"] = delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    position = 0
    try:
        for cells in reader:
            if not cells:
                continue
            if header is None:
                header = _unique_header(cells)
                info["csv_header"] = header
                continue
            position += 1
            raw = _csv_row_text(cells)
            if len(cells) != len(header):
                yield Item(position, raw, reason=f"ragged row: {len(cells)} fields, header has {len(header)}")
            elif all(not c.strip() for c in cells):
                yield Item(position, raw, reason="empty row")
            else:
                yield Item(position, raw, payload=dict(zip(header, cells, strict=True)))
    except csv.Error as exc:
        yield Item(position + 1, "", reason=f"malformed CSV after data row {position}: {exc}")
