"""Flat submission objects and CSV rows: `email`, `phone`, `submission_id`, `consent_<purpose>`, ..."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from uds_pipelines.lib.ingest.external_ids import is_external_id_field
from uds_pipelines.lib.ingest.forms.fields import (
    Submission,
    as_text,
    column_for_key,
    consent_purpose_for_key,
    normalize_key,
    parse_timestamp,
)

_ID_KEYS = {"submissionid", "submission"}
_TIME_KEYS = {"submittedat", "submittedon", "submissiondate", "datesubmitted", "createdat", "timestamp"}
_FORM_KEYS = {"formid", "formname"}


def extract(payload: dict[str, Any], external_id_fields: Sequence[str]) -> Submission:
    sub = Submission(provider="flat", external_id_fields=external_id_fields)
    for key, value in payload.items():
        norm = normalize_key(key)
        if norm in _ID_KEYS and sub.submission_id is None and as_text(value):
            sub.submission_id = as_text(value).strip()
        elif norm in _TIME_KEYS and sub.submitted_at is None and as_text(value):
            sub.submitted_at = parse_timestamp(value)
            if sub.submitted_at is None:
                # Kept, not quarantined: the person's fields are still usable without a time.
                sub.notes.append(f"unparseable {key}: kept in fields_json, submitted_at null")
                sub.fields[str(key)] = value
        elif norm in _FORM_KEYS and sub.form_id is None and as_text(value):
            sub.form_id = as_text(value)
        else:
            sub.add_field(str(key), value)
    return sub


def recognized_key(key: str, external_id_fields: Sequence[str]) -> bool:
    """Whether a CSV header names something a flat row can use (person field, id or consent)."""
    return (
        column_for_key(key) is not None
        or consent_purpose_for_key(key) is not None
        or (normalize_key(key) in _ID_KEYS)
        or is_external_id_field(key, external_id_fields)
    )
