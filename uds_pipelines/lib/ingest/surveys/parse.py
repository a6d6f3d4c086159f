"""`parse_survey_file`: read, detect the layout, build responses; bad input becomes quarantine, never an error."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from uds_pipelines.lib.config import DEFAULT_EXTERNAL_ID_FIELDS
from uds_pipelines.lib.ingest.results import ParseResult, empty_consents
from uds_pipelines.lib.ingest.surveys.detect import UnsupportedLayout, detect_layout
from uds_pipelines.lib.ingest.surveys.model import LayoutSpec
from uds_pipelines.lib.ingest.surveys.reader import RawTable, UnreadableFile, read_table
from uds_pipelines.lib.ingest.surveys.responses import (
    SOURCE,
    DataRow,
    build_responses,
    empty_answers,
    records_frame,
)
from uds_pipelines.lib.masking import mask_text
from uds_pipelines.lib.quarantine import MAX_RAW_CHARS, QuarantineRecord, decode_raw


def parse_survey_file(
    path: Path, source_file: str | None = None, external_id_fields: Sequence[str] = DEFAULT_EXTERNAL_ID_FIELDS
) -> ParseResult:
    """Parse one survey export (Qualtrics, SurveyMonkey, Typeform, Google Forms, plain CSV; .csv/.tsv/.xlsx).
    Columns named in `external_id_fields` (`Settings.external_id_fields`) give `external_id`."""
    path = Path(path)
    source_file = source_file or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        return file_quarantine(source_file, f"unreadable file: {exc.strerror or type(exc).__name__}", b"", {})
    try:
        return parse_survey_bytes(data, source_file, path.name, external_id_fields)
    except Exception as exc:  # noqa: BLE001 - the contract: a parser never raises on bad input
        reason = f"survey parser error: {type(exc).__name__}: {mask_text(str(exc))[:200]}"
        return file_quarantine(source_file, reason, data, {"layout": None})


def parse_survey_bytes(
    data: bytes,
    source_file: str,
    name: str = "",
    external_id_fields: Sequence[str] = DEFAULT_EXTERNAL_ID_FIELDS,
) -> ParseResult:
    info: dict = {"layout": None, "encoding": None, "encoding_decision": None, "header_rows": None}
    try:
        table = read_table(data, name or source_file)
    except UnreadableFile as exc:
        return file_quarantine(source_file, str(exc), data, info)
    info.update(encoding=table.encoding, encoding_decision=table.encoding_decision, delimiter=table.delimiter)
    leading = _leading_blank_rows(table)
    rows = table.rows[leading:]
    try:
        spec = detect_layout(rows, external_id_fields)
    except UnsupportedLayout as exc:
        return file_quarantine(source_file, str(exc), data, info)
    info.update(
        layout=spec.layout, header_rows=spec.header_rows, leading_blank_rows=leading, columns=spec.width
    )
    info.update({k: v for k, v in spec.notes.items() if v is not None})
    spec.named_width = _named_width(rows[: spec.header_rows])
    survey_id = survey_id_for(spec)
    info["survey_id"] = survey_id
    first_data = leading + spec.header_rows
    data_rows = [
        DataRow(position, cells, raw)
        for position, (cells, raw) in enumerate(
            zip(table.rows[first_data:], table.raw[first_data:], strict=True), start=1
        )
    ]
    built = build_responses(spec, data_rows, survey_id, source_file)
    info.update(built.info)
    info.update(responses=len(built.records), quarantined=len(built.quarantine))
    return ParseResult(
        records=built.records,
        quarantine=built.quarantine,
        consents=built.consents,
        extra={"answers": built.answers},
        records_read=built.records_read,
        info=info,
    )


def survey_id_for(spec: LayoutSpec) -> str:
    """Exports rarely name their survey: identify it by tool family and question wording.

    Both Qualtrics forms of one survey carry the same question texts, so they share an id.
    """
    family = "qualtrics" if spec.layout.startswith("qualtrics") else spec.layout
    texts = [q.question_text.strip() for q in spec.questions if q.question_text.strip()]
    digest = hashlib.sha256("\n".join([family, *texts]).encode("utf-8")).hexdigest()
    return f"svy_{digest[:16]}"


def file_quarantine(source_file: str, reason: str, data: bytes, info: dict) -> ParseResult:
    """The whole file as one quarantine record (position 0), so records_read == 1 stays conserved."""
    info = {**info, "file_quarantined": True}
    raw = decode_raw(data[: MAX_RAW_CHARS * 4])
    record = QuarantineRecord(SOURCE, source_file, 0, reason, raw)
    return ParseResult(
        records=records_frame([]),
        quarantine=[record],
        consents=empty_consents(),
        extra={"answers": empty_answers()},
        records_read=1,
        info=info,
    )


def _leading_blank_rows(table: RawTable) -> int:
    count = 0
    for row in table.rows:
        if any(c.strip() for c in row):
            break
        count += 1
    return count


def _named_width(header_rows: list[list[str]]) -> int:
    return max((i + 1 for row in header_rows for i, c in enumerate(row) if c.strip()), default=0)
