"""Netlify Forms `submission-created` payloads, bare or wrapped in `{"payload": ..., "site": ...}`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from uds_pipelines.lib.ingest.forms.fields import Submission, as_text, parse_timestamp

_MARKERS = {"form_name", "ordered_human_fields", "human_fields"}
# Derived or duplicated by Netlify from `data`; kept out of fields_json to keep rows small.
_DERIVED = {"summary", "body", "human_fields", "ordered_human_fields", "data", "title"}
_USED = {"id", "form_id", "created_at", "email", "name", "first_name", "last_name"}


def submission_of(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The submission object of a Netlify payload, or None when it is not one."""
    inner = payload.get("payload")
    if isinstance(inner, dict) and isinstance(inner.get("data"), dict) and _MARKERS & inner.keys():
        return inner
    if isinstance(payload.get("data"), dict) and _MARKERS & payload.keys() and "id" in payload:
        return payload
    return None


def extract(payload: dict[str, Any], external_id_fields: Sequence[str]) -> Submission:
    body = submission_of(payload) or {}
    sub = Submission(
        provider="netlify",
        external_id_fields=external_id_fields,
        submission_id=as_text(body.get("id")),
        form_id=as_text(body.get("form_id")),
        submitted_at=parse_timestamp(body.get("created_at")),
    )
    # Top-level person fields first: Netlify derives them, `data` holds what the visitor typed.
    for key in ("email", "first_name", "last_name", "name"):
        sub.add_field(key, body.get(key))
    first, last = sub.columns.get("first_name"), sub.columns.get("last_name")
    if first and last is None and sub.full_name and first.strip() == sub.full_name.strip():
        # Real captures put the whole name in first_name with last_name null: split it like "Name".
        sub.columns.pop("first_name")
        sub.notes.append("netlify first_name held the full name: split on the last space")
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    already = {v for v in (*sub.columns.values(), sub.full_name, body.get("first_name")) if v}
    for key, value in data.items():
        if key in {"email", "name", "first_name", "last_name"} and as_text(value) in already:
            continue
        sub.add_field(str(key), value)
    for key, value in body.items():
        if key not in _DERIVED and key not in _USED and value is not None:
            sub.fields[f"_{key}"] = value
    site = payload.get("site")
    if isinstance(site, dict) and site.get("url"):
        sub.fields["_site"] = site["url"]
    return sub
