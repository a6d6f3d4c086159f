"""Qualtrics exports: the 3-row form (ids / question texts / ImportId) and the legacy 2-row V1..V10 form."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from uds_pipelines.lib import safe_json
from uds_pipelines.lib.ingest.external_ids import is_external_id_field
from uds_pipelines.lib.ingest.surveys.model import (
    LayoutSpec,
    Question,
    alias_role,
    cell,
    dedupe_names,
    norm_header,
)

IMPORT_ID = re.compile(r"""^\s*\{\s*["']ImportId["']\s*:""")
LEGACY_V = re.compile(r"^V\d+$")

# System columns, never answers. Keys are norm_header()'d column ids (or legacy row-2 names).
META_ROLES: dict[str, str | None] = {
    "responseid": "response_id",
    "recipientemail": "email",
    "emailaddress": "email",
    "recipientfirstname": "first_name",
    "recipientlastname": "last_name",
    "name": "full_name",
    "recordeddate": "submitted_at",
    "enddate": "submitted_at",
    "startdate": None,
    "status": None,
    "ipaddress": None,
    "progress": None,
    "duration (in seconds)": None,
    "finished": None,
    "externalreference": None,
    "externaldatareference": None,
    "locationlatitude": None,
    "locationlongitude": None,
    "locationaccuracy": None,
    "distributionchannel": None,
    "userlanguage": None,
    "responseset": None,
}
# RecordedDate is when Qualtrics stored the response; EndDate is the respondent's last click.
SUBMITTED_PRIORITY = ("recordeddate", "enddate")


def is_import_id_row(row: list[str]) -> bool:
    filled = [c for c in row if c.strip()]
    return bool(filled) and sum(1 for c in filled if IMPORT_ID.match(c)) >= len(filled) / 2


def is_legacy_header(rows: list[list[str]]) -> bool:
    if len(rows) < 2:
        return False
    first = [c.strip() for c in rows[0][:5]]
    return first[:3] == ["V1", "V2", "V3"] and "responseid" in {norm_header(c) for c in rows[1]}


def parse_import_id(text: str) -> dict:
    """`{"ImportId":"QID1"}` (JSON) or `{'ImportId': 'QID1'}` (older Python-dict exports)."""
    decoded = safe_json.decode(text)
    if decoded.ok:
        return decoded.value if isinstance(decoded.value, dict) else {}
    if decoded.problem != "invalid JSON":
        return {}  # JSON refused by policy (a number out of range, too deep): not re-read as Python
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _key(column_id: str) -> str:
    return norm_header(column_id).replace(" ", "") if "(" not in column_id else norm_header(column_id)


def build_3row(rows: list[list[str]], header_rows: int, external_id_fields: Sequence[str]) -> LayoutSpec:
    """`header_rows` is 3 with the ImportId row, 2 when it was removed, 1 when only ids remain."""
    ids = rows[0]
    texts = rows[1] if header_rows >= 2 else ids
    imports = [parse_import_id(c) for c in rows[2]] if header_rows >= 3 else []
    spec = LayoutSpec("qualtrics_3row", header_rows, width=len(ids))
    names, duplicates = dedupe_names([c.strip() or f"column_{i + 1}" for i, c in enumerate(ids)])
    if duplicates:
        spec.notes["duplicate_columns"] = duplicates
    stamps: dict[str, int] = {}
    for index, column_id in enumerate(ids):
        key = _key(column_id)
        text = cell(texts, index).strip() or column_id.strip()
        if is_external_id_field(column_id, external_id_fields):
            spec.external_id_columns.append(index)
        if key in META_ROLES:
            _assign(spec, META_ROLES[key], index, key, stamps)
            if key in SUBMITTED_PRIORITY:
                zone = imports[index].get("timeZone") if index < len(imports) else None
                spec.timestamp_tz = spec.timestamp_tz or zone
            continue
        if column_id.startswith("Q_"):  # Qualtrics system fields: Q_RecaptchaScore, Q_TotalDuration...
            continue
        role = alias_role(column_id)
        if role in ("email", "first_name", "last_name", "full_name", "phone", "country"):
            spec.add_field(role, index)
            continue
        spec.questions.append(Question(index, names[index], text))
    _order_submitted(spec, stamps)
    spec.notes["import_ids"] = (
        "json" if imports and '"' in rows[2][0] else ("python-dict" if imports else None)
    )
    return spec


def build_legacy(rows: list[list[str]], external_id_fields: Sequence[str]) -> LayoutSpec:
    ids, texts = rows[0], rows[1]
    spec = LayoutSpec("qualtrics_legacy", 2, width=len(ids))
    names, duplicates = dedupe_names([c.strip() or f"column_{i + 1}" for i, c in enumerate(ids)])
    if duplicates:
        spec.notes["duplicate_columns"] = duplicates
    stamps: dict[str, int] = {}
    for index, column_id in enumerate(ids):
        text = cell(texts, index).strip()
        key = _key(text)
        if is_external_id_field(text if LEGACY_V.match(column_id.strip()) else column_id, external_id_fields):
            spec.external_id_columns.append(index)
        if LEGACY_V.match(column_id.strip()) or key in (
            "locationlatitude",
            "locationlongitude",
            "locationaccuracy",
        ):
            _assign(spec, META_ROLES.get(key), index, key, stamps)
            continue
        role = alias_role(column_id)
        if role in ("email", "first_name", "last_name", "full_name", "phone", "country"):
            spec.add_field(role, index)
            continue
        spec.questions.append(Question(index, names[index], text or column_id.strip()))
    _order_submitted(spec, stamps)
    return spec


def _assign(spec: LayoutSpec, role: str | None, index: int, key: str, stamps: dict[str, int]) -> None:
    if role == "response_id":
        spec.id_columns.append(index)
    elif role == "submitted_at":
        stamps[key] = index
    elif role:
        spec.add_field(role, index)


def _order_submitted(spec: LayoutSpec, stamps: dict[str, int]) -> None:
    ordered = [stamps[k] for k in SUBMITTED_PRIORITY if k in stamps]
    if ordered:
        spec.fields["submitted_at"] = ordered
