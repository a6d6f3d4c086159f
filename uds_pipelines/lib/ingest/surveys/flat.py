"""One-header-row exports: Typeform, Google Forms and plain CSVs (columns matched by name)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from uds_pipelines.lib.ingest.external_ids import is_external_id_field
from uds_pipelines.lib.ingest.surveys.model import (
    ALIASES,
    IDENTITY_ROLES,
    LayoutSpec,
    Question,
    alias_role,
    dedupe_names,
    norm_header,
)

TYPEFORM_META: dict[str, str | None] = {
    "#": "response_id",
    "token": "response_id",
    "submit date (utc)": "submitted_at",
    "submitted at": "submitted_at",
    "start date (utc)": None,
    "stage date (utc)": None,
    "network id": None,
    "response type": None,
    "tags": None,
    "ending": None,
}
TYPEFORM_MARKERS = {"network id", "submit date (utc)", "start date (utc)", "submitted at"}
# Google Forms' first column in the languages it is most often exported in.
GOOGLE_TIMESTAMPS = {
    "timestamp",
    "marca temporal",
    "horodateur",
    "zeitstempel",
    "carimbo de data/hora",
    "tijdstempel",
}
GOOGLE_META: dict[str, str | None] = {"email address": "email", "username": "email", "score": None}
_DATA_LIKE = re.compile(r"@|^\d+([.,/:\-]\d+)*$|^https?://", re.I)


def is_typeform_header(header: list[str]) -> bool:
    names = {norm_header(c) for c in header}
    has_id = "#" in names or "token" in names
    return has_id and bool(names & TYPEFORM_MARKERS)


def is_google_forms_header(header: list[str]) -> bool:
    return bool(header) and norm_header(header[0]) in GOOGLE_TIMESTAMPS


def plain_header_problem(header: list[str]) -> str | None:
    """Why a first row cannot be a plain CSV's header, or None when it can."""
    filled = [c.strip() for c in header if c.strip()]
    if len(filled) < 2:
        return f"{len(header)} column(s), need a header row naming at least 2"
    if any(_DATA_LIKE.search(c) for c in filled):
        return "first row holds data values (emails, numbers, dates or links), not column names"
    if not any(alias_role(c) for c in filled):
        return "no column names a respondent id, email, name or submission time"
    return None


def build(header: list[str], layout: str, external_id_fields: Sequence[str]) -> LayoutSpec:
    spec = LayoutSpec(layout, 1, width=len(header))
    names, duplicates = dedupe_names([c.strip() or f"column_{i + 1}" for i, c in enumerate(header)])
    if duplicates:
        spec.notes["duplicate_columns"] = duplicates
    meta = TYPEFORM_META if layout == "typeform" else GOOGLE_META if layout == "google_forms" else {}
    for index, name in enumerate(header):
        key = norm_header(name)
        if is_external_id_field(
            name, external_id_fields
        ):  # a Typeform hidden field or a plain `user_id` column
            spec.external_id_columns.append(index)
        if layout == "google_forms" and index == 0:
            spec.add_field("submitted_at", index)
            continue
        if key in meta:
            role = meta[key]
            if role == "response_id":
                spec.id_columns.append(index)
            elif role:
                spec.add_field(role, index)
            continue
        role = alias_role(name)
        if layout == "plain" and role == "response_id" and key in ALIASES["response_id"]:
            spec.id_columns.append(index)
            continue
        if layout == "plain" and role == "survey_id" and spec.survey_id_column is None:
            spec.survey_id_column = index
            continue
        if role in IDENTITY_ROLES and (role != "submitted_at" or layout == "plain"):
            spec.add_field(role, index)
            continue
        spec.questions.append(Question(index, names[index], name.strip()))
    if layout == "typeform":
        spec.timestamp_tz = "UTC"  # Typeform states "(UTC)" in its column names
    spec.id_required = bool(spec.id_columns)
    _prefer_exact_ids(spec, header)
    return spec


def _prefer_exact_ids(spec: LayoutSpec, header: list[str]) -> None:
    """`response_id` beats a bare `id` when a plain CSV has both."""
    rank = {
        "response id": 0,
        "responseid": 0,
        "submission id": 1,
        "respondent id": 2,
        "token": 3,
        "id": 4,
        "#": 0,
    }
    spec.id_columns.sort(key=lambda i: rank.get(norm_header(header[i]), 5))
