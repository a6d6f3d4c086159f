"""Typeform `form_response` webhooks: answers mapped to our columns by field ref, answer type or title."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from uds_pipelines.lib.ingest.forms.fields import (
    ALIAS_TO_COLUMN,
    CONSENT_WORDS,
    Submission,
    as_text,
    column_for_key,
    consent_purpose_for_key,
    infer_purpose,
    normalize_key,
    parse_timestamp,
)

_TYPE_COLUMNS = {"email": "email", "phone_number": "phone"}
# Long aliases only, so a ref ending in "name" or "city" by chance is not taken for a column.
_REF_SUFFIXES = [(alias, column) for alias, column in ALIAS_TO_COLUMN.items() if len(alias) >= 5]
# Question wording that names the column; only tried for free-text answers.
_TITLE_PATTERNS = [
    (re.compile(r"first ?name|given name|forename", re.I), "first_name"),
    (re.compile(r"last ?name|surname|family name", re.I), "last_name"),
    (re.compile(r"full name|your name", re.I), "name"),
    (re.compile(r"date of birth|birth ?date|birthday", re.I), "date_of_birth"),
    (re.compile(r"post ?code|zip ?code|postal code", re.I), "postcode"),
    (re.compile(r"\bcountry\b", re.I), "country"),
    (re.compile(r"\bcity\b|\btown\b", re.I), "city"),
]


def response_of(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The `form_response` object of a webhook (or a bare response from the Responses API)."""
    inner = payload.get("form_response")
    if isinstance(inner, dict) and (payload.get("event_type") in (None, "form_response")):
        return inner
    if isinstance(payload.get("answers"), list) and "token" in payload:
        return payload
    return None


def answer_value(answer: dict[str, Any]) -> Any:
    kind = answer.get("type")
    value = answer.get(kind) if isinstance(kind, str) else None
    if kind == "choice" and isinstance(value, dict):
        return value.get("label") if value.get("label") is not None else value.get("other")
    if kind == "choices" and isinstance(value, dict):
        labels = list(value.get("labels") or [])
        return labels + ([value["other"]] if value.get("other") else [])
    return value


@lru_cache(maxsize=8192)  # definitions repeat across the responses of one form
def _column_for(ref: str, title: str, answer_type: str | None) -> str | None:
    if answer_type in _TYPE_COLUMNS:
        return _TYPE_COLUMNS[answer_type]
    column = column_for_key(ref) if ref else None
    if column is None and ref:
        # Refs like "customer_email" or "user_first_name" name the column in their tail.
        norm = normalize_key(ref)
        column = next((c for a, c in _REF_SUFFIXES if norm.endswith(a)), None)
    if column is None and answer_type == "text":
        column = next((c for pattern, c in _TITLE_PATTERNS if pattern.search(title)), None)
    return column


def extract(payload: dict[str, Any], external_id_fields: Sequence[str]) -> Submission:
    response = response_of(payload) or {}
    definition = response.get("definition") if isinstance(response.get("definition"), dict) else {}
    by_id = {f.get("id"): f for f in definition.get("fields") or [] if isinstance(f, dict)}
    sub = Submission(
        provider="typeform",
        external_id_fields=external_id_fields,
        submission_id=as_text(response.get("token") or response.get("response_id")),
        form_id=as_text(response.get("form_id") or definition.get("id")),
        submitted_at=parse_timestamp(response.get("submitted_at")),
    )
    for answer in response.get("answers") or []:
        if not isinstance(answer, dict):
            continue
        field_ref = answer.get("field") if isinstance(answer.get("field"), dict) else {}
        meta = by_id.get(field_ref.get("id"), {})
        ref = str(field_ref.get("ref") or meta.get("ref") or "")
        title = str(meta.get("title") or "")
        key = ref or str(field_ref.get("id") or f"answer_{len(sub.fields) + 1}")
        value = answer_value(answer)
        sub.note_external_id(ref, value)
        if answer.get("type") == "boolean" and isinstance(value, bool):
            purpose = consent_purpose_for_key(ref)
            if purpose or CONSENT_WORDS.search(f"{ref} {title}"):
                sub.consents.append(
                    (purpose or infer_purpose(f"{ref} {title}"), value, f"typeform field {key}")
                )
            sub.fields[key] = value
            continue
        column = _column_for(ref, title, answer.get("type"))
        if column is not None:
            sub.set_column(column, value, key)
        else:
            sub.fields[key] = value
    hidden = response.get("hidden") if isinstance(response.get("hidden"), dict) else {}
    extra_hidden = {}
    for key, value in hidden.items():
        sub.note_external_id(key, value)
        column = column_for_key(key)
        if column is not None:
            sub.set_column(column, value, f"hidden.{key}")
        else:
            extra_hidden[key] = value
    if extra_hidden:
        sub.fields["_hidden"] = extra_hidden
    if payload.get("event_id") is not None:
        sub.fields["_event_id"] = payload["event_id"]
    variables = response.get("variables")
    if isinstance(variables, list) and variables:
        sub.fields["_variables"] = {
            v.get("key"): v.get(v.get("type")) for v in variables if isinstance(v, dict) and v.get("key")
        }
    return sub
