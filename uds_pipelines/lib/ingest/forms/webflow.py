"""Webflow `form_submission` webhooks: v2 (`triggerType` + `payload`) and legacy v1 (`_id`, `d`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from uds_pipelines.lib.ingest.forms.fields import Submission, as_text, parse_timestamp


def looks_like_v2(payload: dict[str, Any]) -> bool:
    return payload.get("triggerType") == "form_submission" and isinstance(payload.get("payload"), dict)


def looks_like_v1(payload: dict[str, Any]) -> bool:
    return (
        isinstance(payload.get("data"), dict) and "_id" in payload and ("site" in payload or "d" in payload)
    )


def _add_data(sub: Submission, data: Any) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            sub.add_field(str(key), value)


def extract_v2(envelope: dict[str, Any], external_id_fields: Sequence[str]) -> Submission:
    body = envelope["payload"]
    sub = Submission(
        provider="webflow",
        external_id_fields=external_id_fields,
        submission_id=as_text(body.get("id")),
        form_id=as_text(body.get("formId")),
        submitted_at=parse_timestamp(body.get("submittedAt")),
    )
    _add_data(sub, body.get("data"))
    for key in ("name", "siteId", "formElementId", "pageId", "publishedPath"):
        if body.get(key) is not None:
            sub.fields[f"_{key}"] = body[key]
    sub.fields["_webflow_version"] = 2
    return sub


def extract_v1(payload: dict[str, Any], external_id_fields: Sequence[str]) -> Submission:
    # v1 carries no form id; the form's name and site stay in fields_json.
    sub = Submission(
        provider="webflow",
        external_id_fields=external_id_fields,
        submission_id=as_text(payload.get("_id")),
        submitted_at=parse_timestamp(payload.get("d")),
    )
    _add_data(sub, payload.get("data"))
    for key in ("name", "site"):
        if payload.get(key) is not None:
            sub.fields[f"_{key}"] = payload[key]
    sub.fields["_webflow_version"] = 1
    return sub
