"""SurveyMonkey exports: 2 header rows, questions spanning several columns with sub-headers in row 2."""

from __future__ import annotations

import re
from collections.abc import Sequence

from uds_pipelines.lib.ingest.external_ids import is_external_id_field
from uds_pipelines.lib.ingest.surveys.model import (
    LayoutSpec,
    Question,
    alias_role,
    cell,
    dedupe_names,
    norm_header,
)

META_ROLES: dict[str, str | None] = {
    "respondent id": "response_id",
    "collector id": None,
    "start date": None,
    "end date": "submitted_at",
    "ip address": None,
    "email address": "email",
    "first name": "first_name",
    "last name": "last_name",
}
CUSTOM_DATA = re.compile(r"^custom data( \d+)?$")
# Sub-headers that name no option: a single-column question is identified by its text alone.
GENERIC_SUBHEADERS = {"", "response", "open-ended response", "open ended response"}
CONTACT_QUESTION = re.compile(r"contact|your (information|details)|about you", re.I)
CONTACT_ROLES = ("email", "first_name", "last_name", "full_name", "phone", "country")


def is_surveymonkey_header(rows: list[list[str]]) -> bool:
    names = {norm_header(c) for c in rows[0]} if rows else set()
    return "respondent id" in names and ("collector id" in names or {"start date", "end date"} <= names)


def build(rows: list[list[str]], external_id_fields: Sequence[str]) -> LayoutSpec:
    titles = rows[0]
    subs = rows[1] if len(rows) > 1 else []
    width = max(len(titles), len(subs))
    spec = LayoutSpec("surveymonkey", 2, width=width)
    index = 0
    while index < width:
        key = norm_header(cell(titles, index))
        if is_external_id_field(
            cell(titles, index), external_id_fields
        ):  # custom data / custom variables, when listed
            spec.external_id_columns.append(index)
        if key in META_ROLES or CUSTOM_DATA.match(key):
            role = META_ROLES.get(key)
            if role == "response_id":
                spec.id_columns.append(index)
            elif role:
                spec.add_field(role, index)
            index += 1
            continue
        break
    contact: list[tuple[str, int]] = []
    groups = _question_groups(titles, subs, index, width)
    ids: list[str] = []
    pending: list[tuple[int, str, str | None]] = []
    for text, members in groups:
        single = len(members) == 1
        if single and is_external_id_field(
            text, external_id_fields
        ):  # a custom variable column after the metadata
            spec.external_id_columns.append(members[0])
        for col in members:
            sub = cell(subs, col).strip()
            role = alias_role(sub) if not single and CONTACT_QUESTION.search(text) else None
            if role in CONTACT_ROLES:
                contact.append((role, col))
                continue
            generic = norm_header(sub) in GENERIC_SUBHEADERS
            question_id = text if (single and generic) or not sub else f"{text} - {sub}"
            ids.append(question_id or f"column_{col + 1}")
            pending.append((col, text, None if generic else sub))
    for role, col in contact:  # after the account's own metadata columns, which take priority
        spec.add_field(role, col)
    names, duplicates = dedupe_names(ids)
    if duplicates:
        spec.notes["duplicate_columns"] = [d[:80] for d in duplicates]
    spec.questions = [
        Question(col, name, text, sub) for (col, text, sub), name in zip(pending, names, strict=True)
    ]
    return spec


def _question_groups(
    titles: list[str], subs: list[str], start: int, width: int
) -> list[tuple[str, list[int]]]:
    """Row 1 names a question on its first column and is blank on the columns it continues over."""
    groups: list[tuple[str, list[int]]] = []
    for col in range(start, width):
        text = cell(titles, col).strip()
        if text or not groups:
            groups.append((text, [col]))
        else:
            groups[-1][1].append(col)
    return groups
