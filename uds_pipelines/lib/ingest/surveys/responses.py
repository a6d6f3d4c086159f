"""Data rows of a detected export to response records, long-form answers and consent statements."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from uds_pipelines.lib import catalog
from uds_pipelines.lib.ingest.results import consent_frame
from uds_pipelines.lib.ingest.surveys import timestamps
from uds_pipelines.lib.ingest.surveys.consent import consent_answer, consent_questions
from uds_pipelines.lib.ingest.surveys.model import LayoutSpec, Question, cell, split_full_name
from uds_pipelines.lib.ingest.surveys.nps import find_nps_question, nps_value
from uds_pipelines.lib.masking import EMAIL_RE, mask_text
from uds_pipelines.lib.quarantine import QuarantineRecord

_RESPONSE_COLUMNS = list(catalog.table("landed_survey_responses").columns)
SOURCE = "survey"


@dataclass
class DataRow:
    position: int  # 1 = first data row after the header rows
    cells: list[str]
    raw: str


@dataclass
class Built:
    records: pd.DataFrame
    answers: pd.DataFrame
    consents: pd.DataFrame
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    records_read: int = 0
    info: dict = field(default_factory=dict)


def stable_response_id(survey_id: str, position: int, cells: list[str]) -> str:
    """For exports without ids: same survey, row and content give the same id on every re-export."""
    digest = hashlib.sha256("\x1f".join([survey_id, str(position), *cells]).encode("utf-8")).hexdigest()
    return f"srv_{digest[:24]}"


def build_responses(spec: LayoutSpec, rows: list[DataRow], survey_id: str, source_file: str) -> Built:
    good, quarantine, info = _screen_rows(spec, rows, source_file)
    _promote_email_question(spec, good)
    stamps, info["submitted_at"] = _timestamps(spec, good)
    nps_question = find_nps_question(spec.questions, [r.cells for r in good])
    info["nps_question"] = nps_question.question_id[:120] if nps_question else None
    consent_qs = consent_questions(spec.questions)
    info["consent_questions"] = [{"question_id": q.question_id[:120], "purpose": p} for q, p in consent_qs]

    records: list[dict] = []
    accepted: list[DataRow] = []
    seen: dict[str, int] = {}
    for row, stamp in zip(good, stamps, strict=True):
        response_id = _first(row.cells, spec.id_columns)
        if response_id is None:
            if spec.id_columns and spec.id_required:
                reason = "missing response id: the export's id column is empty"
                quarantine.append(QuarantineRecord(SOURCE, source_file, row.position, reason, row.raw))
                continue
            response_id = stable_response_id(survey_id, row.position, row.cells)
        if response_id in seen:
            reason = f"duplicate response id {mask_text(response_id)[:80]} (first at row {seen[response_id]})"
            quarantine.append(QuarantineRecord(SOURCE, source_file, row.position, reason, row.raw))
            continue
        seen[response_id] = row.position
        record = _identity(spec, row.cells)
        record["external_id"] = _first(row.cells, spec.external_id_columns)
        own_survey = _first(row.cells, [spec.survey_id_column]) if spec.survey_id_column is not None else None
        record.update(
            response_id=response_id,
            survey_id=own_survey or survey_id,
            layout=spec.layout,
            submitted_at=stamp,
            nps=nps_value(cell(row.cells, nps_question.index)) if nps_question else None,
            source_file=source_file,
            position=row.position,
        )
        records.append(record)
        accepted.append(row)
    identity_cols = spec.role_columns()
    questions = [q for q in spec.questions if q.index not in identity_cols]
    consents, info["consent_answers_without_identifier"] = _consents(consent_qs, accepted, records)
    return Built(
        records=records_frame(records),
        answers=answers_frame(questions, accepted, [r["response_id"] for r in records]),
        consents=_typed_consents(consents),
        quarantine=quarantine,
        records_read=len(records) + len(quarantine),
        info=info,
    )


def _screen_rows(spec: LayoutSpec, rows: list[DataRow], source_file: str) -> tuple[list, list, dict]:
    """Rows that fit the header; ragged ones are quarantined, blank lines skipped and counted."""
    good: list[DataRow] = []
    quarantine: list[QuarantineRecord] = []
    blank = trimmed = padded = 0
    for row in rows:
        if not any(c.strip() for c in row.cells):
            blank += 1  # blank lines are layout, not responses
            continue
        if len(row.cells) > spec.width and not any(c.strip() for c in row.cells[spec.width :]):
            row.cells = row.cells[: spec.width]
            trimmed += 1
        elif (spec.named_width or spec.width) <= len(row.cells) < spec.width:
            # only columns without any header are missing (a trailing delimiter on the header line)
            row.cells = row.cells + [""] * (spec.width - len(row.cells))
            padded += 1
        if len(row.cells) != spec.width:
            reason = f"ragged row: {len(row.cells)} cells, header has {spec.width}"
            quarantine.append(QuarantineRecord(SOURCE, source_file, row.position, reason, row.raw))
            continue
        good.append(row)
    info = {"blank_rows_skipped": blank, "rows_with_trailing_empty_cells": trimmed, "rows_padded": padded}
    return good, quarantine, info


def empty_answers() -> pd.DataFrame:
    return pd.DataFrame(columns=list(catalog.table("landed_survey_answers").columns), dtype=object)


def answers_frame(questions: list[Question], rows: list[DataRow], response_ids: list[str]) -> pd.DataFrame:
    """Long form, one row per non-blank answer, built column-wise: exports can hold millions of cells."""
    if not questions or not rows:
        return empty_answers()
    index = [q.index for q in questions]
    cells = np.array([r.cells for r in rows], dtype=object)[:, index].ravel()
    frame = pd.DataFrame(
        {
            "response_id": np.repeat(np.array(response_ids, dtype=object), len(index)),
            "question_id": np.tile(np.array([q.question_id for q in questions], dtype=object), len(rows)),
            "question_text": np.tile(np.array([q.question_text for q in questions], dtype=object), len(rows)),
            "answer": cells,
        },
        dtype=object,
    )
    keep = pd.Series(cells, dtype=object).str.strip().ne("").to_numpy()
    return frame[keep].reset_index(drop=True)


def _consents(
    consent_qs: list[tuple[Question, str]], rows: list[DataRow], records: list[dict]
) -> tuple[list, int]:
    """Statements keyed by the respondent's email, else phone; answers with neither are counted."""
    statements: list[dict] = []
    no_identifier = 0
    for row, record in zip(rows, records, strict=True):
        identifier = ("email", record["respondent_email"]) if record["respondent_email"] else None
        if identifier is None and record["phone"]:
            identifier = ("phone", record["phone"])
        for question, purpose in consent_qs:
            granted = consent_answer(cell(row.cells, question.index), question.option)
            if granted is None:
                continue
            if identifier is None:
                no_identifier += 1
                continue
            statements.append(
                {
                    "identifier_type": identifier[0],
                    "identifier": identifier[1],
                    "purpose": purpose,
                    "granted": granted,
                    "captured_at": record["submitted_at"],
                    "source": SOURCE,
                    "source_record": record["response_id"],
                    "source_file": record["source_file"],
                }
            )
    return statements, no_identifier


def records_frame(records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=_RESPONSE_COLUMNS)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True).astype("datetime64[ns, UTC]")
    frame["nps"] = pd.array(frame["nps"].tolist(), dtype="Int64")
    frame["position"] = frame["position"].astype("int64")
    for column in _RESPONSE_COLUMNS:
        if column not in ("submitted_at", "nps", "position"):
            frame[column] = frame[column].astype(object)
    return frame


def _typed_consents(rows: list[dict]) -> pd.DataFrame:
    frame = consent_frame(rows)
    frame["captured_at"] = frame["captured_at"].astype("datetime64[ns, UTC]")
    return frame


def _first(cells: list[str], columns: list[int]) -> str | None:
    for index in columns:
        value = cell(cells, index).strip()
        if value:
            return value
    return None


def _identity(spec: LayoutSpec, cells: list[str]) -> dict:
    fields = {role: _first(cells, cols) for role, cols in spec.fields.items() if role != "submitted_at"}
    first, last = fields.get("first_name"), fields.get("last_name")
    if not (first or last) and fields.get("full_name"):
        first, last = split_full_name(fields["full_name"])
    return {
        "respondent_email": fields.get("email"),
        "first_name": first,
        "last_name": last,
        "phone": fields.get("phone"),
        "country": fields.get("country"),
    }


def _promote_email_question(spec: LayoutSpec, rows: list[DataRow]) -> None:
    """A question asking for an email whose every answer is an email identifies the respondent."""
    if spec.fields.get("email"):
        return
    for question in spec.questions:
        if "mail" not in f"{question.question_text} {question.option or ''}".lower():
            continue
        values = [cell(r.cells, question.index).strip() for r in rows]
        values = [v for v in values if v]
        if values and all(EMAIL_RE.fullmatch(v) for v in values):
            spec.add_field("email", question.index)
            spec.notes["email_from_question"] = question.question_id[:120]
            return


def _timestamps(spec: LayoutSpec, rows: list[DataRow]) -> tuple[list[pd.Timestamp | None], dict]:
    columns = spec.fields.get("submitted_at", [])
    zone = timestamps.resolve_zone(spec.timestamp_tz)
    parsed: dict[int, list] = {}
    orders: dict[int, str] = {}
    for col in columns:
        parsed[col], orders[col] = timestamps.parse_column([cell(r.cells, col) for r in rows], zone)
    out: list[pd.Timestamp | None] = []
    unparseable = 0
    for i, row in enumerate(rows):
        stamp, had_value = None, False
        for col in columns:
            had_value |= bool(cell(row.cells, col).strip())
            if parsed[col][i] is not None:
                stamp = parsed[col][i]
                break
        unparseable += stamp is None and had_value
        out.append(stamp)
    info = {
        "columns": [col + 1 for col in columns],
        "date_order": sorted(set(orders.values())),
        "naive_timezone": spec.timestamp_tz if zone else "UTC (assumed: the export states none)",
        "unparseable": unparseable,
    }
    return out, info
