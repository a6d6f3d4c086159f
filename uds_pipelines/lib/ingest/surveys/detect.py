"""Recognise which tool wrote a survey export from its header rows alone."""

from __future__ import annotations

from collections.abc import Sequence

from uds_pipelines.lib.ingest.surveys import flat, qualtrics, surveymonkey
from uds_pipelines.lib.ingest.surveys.model import LayoutSpec, cell, norm_header
from uds_pipelines.lib.masking import mask_name, mask_text


class UnsupportedLayout(Exception):
    """No known layout fits; the message (masked) becomes the quarantine reason."""


def detect_layout(rows: list[list[str]], external_id_fields: Sequence[str]) -> LayoutSpec:
    """The layout of an export whose leading blank rows were already removed; raises UnsupportedLayout.
    Columns named in `external_id_fields` hold an app's user id."""
    if not rows:
        raise UnsupportedLayout("unsupported survey layout: no header row")
    first = rows[0]
    if len(rows) >= 3 and qualtrics.is_import_id_row(rows[2]):
        return qualtrics.build_3row(rows, 3, external_id_fields)
    if qualtrics.is_legacy_header(rows):
        return qualtrics.build_legacy(rows, external_id_fields)
    if _is_qualtrics_ids(first):
        return qualtrics.build_3row(rows, _qualtrics_header_rows(rows), external_id_fields)
    if surveymonkey.is_surveymonkey_header(rows):
        return surveymonkey.build(rows, external_id_fields)
    if flat.is_typeform_header(first):
        return flat.build(first, "typeform", external_id_fields)
    if flat.is_google_forms_header(first):
        return flat.build(first, "google_forms", external_id_fields)
    problem = flat.plain_header_problem(first)
    if problem is None:
        return flat.build(first, "plain", external_id_fields)
    raise UnsupportedLayout(f"unsupported survey layout: {problem}; first cells {_preview(first)}")


def _is_qualtrics_ids(header: list[str]) -> bool:
    names = {norm_header(c).replace(" ", "") for c in header}
    return "responseid" in names and ("startdate" in names or "enddate" in names or "recordeddate" in names)


def _qualtrics_header_rows(rows: list[list[str]]) -> int:
    """A 3-row export whose ImportId row was deleted keeps the question-text row: it has no response id."""
    if len(rows) < 2:
        return 1
    id_index = next(i for i, c in enumerate(rows[0]) if norm_header(c).replace(" ", "") == "responseid")
    value = cell(rows[1], id_index).strip()
    return 1 if value.startswith("R_") else 2


def _preview(header: list[str], cells: int = 4, width: int = 30) -> str:
    """The first cells, masked: a headerless file's first row may be a person (emails, phones, names)."""
    shown = [mask_name(mask_text(c.strip()))[:width] for c in header[:cells]]
    more = f" (+{len(header) - cells} more)" if len(header) > cells else ""
    return repr(shown) + more
