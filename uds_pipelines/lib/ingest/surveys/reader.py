"""Turn export bytes (CSV/TSV in any common encoding, or .xlsx) into rows of text cells."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from uds_pipelines.lib.ingest.decoding import decode_bytes

DELIMITERS = (",", "\t", ";", "|")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FIELD_LIMIT = 16 * 1024 * 1024


class UnreadableFile(Exception):
    """The whole file cannot be read as a table; the message is the quarantine reason (no personal data)."""


@dataclass
class RawTable:
    rows: list[list[str]]
    raw: list[str]  # the source text of each row, for quarantine
    encoding: str
    encoding_decision: str
    delimiter: str | None = None
    notes: dict = field(default_factory=dict)


def read_table(data: bytes, name: str) -> RawTable:
    """Rows of an export; raises UnreadableFile with a specific reason."""
    if not data:
        raise UnreadableFile("empty file (0 bytes)")
    if data.startswith(ZIP_MAGIC):
        return read_xlsx(data)
    if data.startswith(OLE_MAGIC):
        raise UnreadableFile("unsupported legacy Excel .xls workbook: save as .xlsx or .csv")
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise UnreadableFile("not an xlsx workbook: file is not a ZIP archive")
    return read_csv_text(data)


def read_csv_text(data: bytes) -> RawTable:
    decoded = decode_bytes(data)
    text = decoded.text
    if text.startswith("\ufeff"):
        text = text[1:]
    _reject_binary(text, decoded.lossy)
    # Free-text answers can exceed csv's 128 KiB default; raising the (process-wide) limit only relaxes it.
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    lines = list(io.StringIO(text, newline=""))
    delimiter = sniff_delimiter(lines[:50])
    reader = csv.reader(lines, delimiter=delimiter)
    rows: list[list[str]] = []
    raw: list[str] = []
    consumed = 0
    try:
        for row in reader:
            rows.append(row)
            raw.append("".join(lines[consumed : reader.line_num]).rstrip("\r\n"))
            consumed = reader.line_num
    except csv.Error as exc:
        raise UnreadableFile(f"unreadable CSV at line {reader.line_num + 1}: {exc}") from None
    return RawTable(rows, raw, decoded.encoding, decoded.decision, delimiter)


def _reject_binary(text: str, lossy: bool) -> None:
    sample = text[:65536]
    if "\x00" in sample:
        raise UnreadableFile("binary content: NUL bytes in a text export")
    controls = sum(1 for ch in sample if ch not in "\t\r\n" and unicodedata.category(ch) == "Cc")
    if sample and controls / len(sample) > 0.01:
        raise UnreadableFile(f"binary content: {controls} control characters in the first {len(sample)}")
    if lossy and sample.count("\ufffd") / max(1, len(sample)) > 0.01:
        raise UnreadableFile("binary content: bytes undecodable in any text encoding")


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first records most widely and consistently (Excel "Unicode text" is TAB)."""
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=delimiter)][:5]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        consistent = sum(1 for w in widths if w == widths[0])
        score = (consistent, widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_xlsx(data: bytes) -> RawTable:
    import openpyxl  # imported here: only workbooks need it

    try:
        # data_only=False keeps formulas as their text (`=HYPERLINK(...)`), never evaluated.
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise UnreadableFile(f"unreadable xlsx workbook: {type(exc).__name__}") from None
    try:
        if not book.worksheets:
            raise UnreadableFile("xlsx workbook has no worksheets")
        sheet = book.worksheets[0]
        rows = [[xlsx_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        sheet_name = sheet.title
    finally:
        book.close()
    width = max((_last_filled(r) for r in rows), default=0)
    rows = [r[:width] + [""] * (width - len(r)) for r in rows]
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    raw = ["\t".join(r) for r in rows]
    return RawTable(rows, raw, "xlsx", f"xlsx workbook, first sheet {sheet_name!r}", None)


def _last_filled(row: list[str]) -> int:
    for i in range(len(row) - 1, -1, -1):
        if row[i].strip():
            return i + 1
    return 0


def xlsx_cell_text(value: object) -> str:
    """Cell values as the text a CSV export would have carried."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    text = getattr(value, "text", None)  # openpyxl ArrayFormula / DataTableFormula keep their formula here
    return text if isinstance(text, str) else str(value)
