"""Readable quarantine reasons for the few bad Stripe records, and cleaning of undecodable JSONL files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from uds_pipelines.lib import safe_json
from uds_pipelines.lib.ingest.stripe_landing.envelope import LINE_DELIMITER, MAX_LINE_BYTES
from uds_pipelines.lib.masking import mask_text
from uds_pipelines.lib.quarantine import MAX_RAW_CHARS, QuarantineRecord, decode_raw

SOURCE = "stripe"
_REASON_PATH_CHARS = 120  # JSON paths come from the input: masked and cut short
_JSON_TYPE_NAMES = {
    "ARRAY": "JSON array",
    "VARCHAR": "JSON string",
    "BOOLEAN": "JSON boolean",
    "NULL": "JSON null",
}


def _json_problem(text: str | None, where: str) -> str:
    """Why DuckDB refused `text`, in Python's words through the shared guarded decode."""
    decoded = safe_json.decode(text or "")
    if decoded.ok:
        return f"invalid JSON at {where}: non-standard JSON value"  # DuckDB refuses it, Python not
    return decoded.reason_at(where)


def describe(code: str, raw: str | None, where: str) -> str:
    """`where` is e.g. "line 17" or "item 3"."""
    if code == "invalid_json":
        return _json_problem(raw, where)
    if code.startswith(("number_range:", "number_literal:")):
        kind, path = code.split(":", 1)
        problem = safe_json.OUT_OF_RANGE if kind == "number_range" else safe_json.NON_STANDARD
        return f"{problem} at {where}: {mask_text(path[:_REASON_PATH_CHARS])}"
    if code.startswith("not_object:"):
        kind = code.split(":", 1)[1]
        name = _JSON_TYPE_NAMES.get(kind, "JSON number")
        return f"{name} where an event object is expected at {where}"
    if code == "no_id":
        return f"event without id at {where}"
    if code == "no_type":
        return f"event without type at {where}"
    if code == "bad_created":
        return f"created is not a unix timestamp at {where}"
    if code == "no_data_object":
        return f"event without data.object at {where}"
    return f"unusable event ({code}) at {where}"


def describe_document(kind: str, text: str | None, path: Path) -> str:
    """Reason for a whole `.json` file that holds no usable event or list."""
    if kind == "bad_utf8":
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"invalid UTF-8 at byte {exc.start}"
        return "invalid UTF-8"
    if kind == "empty":
        return "empty file (no events)"
    if kind == "invalid_json":
        decoded = safe_json.decode(text or "")
        if decoded.ok:
            return "invalid JSON: non-standard JSON value"
        return decoded.reason_at(f"line {decoded.line}" if decoded.line else None)
    if kind == "bad_list":
        return "list object without a data array"
    return describe(kind, text, "top level")


@dataclass
class CleanedFile:
    """A JSONL file rewritten with unreadable lines blanked, so line numbers stay the same."""

    path: Path
    quarantine: list[QuarantineRecord] = field(default_factory=list)


def clean_jsonl(path: Path, out_dir: Path, source_file: str) -> CleanedFile:
    """Stream `path` line by line; lines DuckDB cannot read (invalid UTF-8, the reader's delimiter,
    over-long) are quarantined and written as empty lines. Only used for files that failed to read."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / path.name
    delimiter = LINE_DELIMITER.encode()
    cleaned = CleanedFile(target)
    with open(path, "rb") as src, open(target, "wb") as dst:
        for number, raw in enumerate(src, start=1):
            body = raw.rstrip(b"\r\n")
            reason = None
            if len(body) > MAX_LINE_BYTES:
                reason = f"line {number} longer than {MAX_LINE_BYTES // 2**20} MiB"
            else:
                try:
                    body.decode("utf-8")
                except UnicodeDecodeError:
                    reason = f"invalid UTF-8 at line {number}"
                else:
                    if delimiter in body or b"\x00" in body:
                        reason = f"invalid JSON at line {number}: control character in line"
            if reason is None:
                dst.write(body + b"\n")
                continue
            raw_text = decode_raw(body[: MAX_RAW_CHARS * 4])
            cleaned.quarantine.append(QuarantineRecord(SOURCE, source_file, number, reason, raw_text))
            dst.write(b"\n")
    return cleaned
