"""HubSpot Forms API v3 submission bodies: `fields[]`, `context`, `legalConsentOptions`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from uds_pipelines.lib.ingest.forms.fields import Submission, as_text, infer_purpose, parse_timestamp


def looks_like(payload: dict[str, Any]) -> bool:
    fields = payload.get("fields")
    return (
        isinstance(fields, list)
        and all(isinstance(f, dict) and "name" in f for f in fields)
        and (bool(fields) or "context" in payload or "legalConsentOptions" in payload)
    )


def _purpose(statement: dict[str, Any]) -> str:
    # HubSpot gives no purpose, only a subscription type id and the wording shown to the person.
    wording = f"{statement.get('text') or ''} {statement.get('subscriptionTypeId') or ''}"
    return infer_purpose(wording)


def _add_statement(sub: Submission, statement: Any, kind: str) -> None:
    if not isinstance(statement, dict):
        return
    granted = statement.get("value")
    if not isinstance(granted, bool):
        sub.notes.append(f"hubspot {kind} without a boolean value: statement skipped")
        return
    note = f"hubspot {kind} subscriptionTypeId={as_text(statement.get('subscriptionTypeId'))}"
    sub.consents.append((_purpose(statement), granted, note))


def extract(payload: dict[str, Any], external_id_fields: Sequence[str]) -> Submission:
    sub = Submission(
        provider="hubspot",
        external_id_fields=external_id_fields,
        form_id=as_text(payload.get("formGuid") or payload.get("formId")),
    )
    # Multi-value properties may arrive as repeated names; HubSpot's own convention joins them with ";".
    merged: dict[str, Any] = {}
    for item in payload["fields"]:
        name, value = str(item.get("name")), item.get("value")
        if name in merged and value is not None:
            merged[name] = f"{as_text(merged[name])};{as_text(value)}"
        else:
            merged[name] = value
    for name, value in merged.items():
        sub.add_field(name, value)
    if "submittedAt" in payload:
        sub.submitted_at = parse_timestamp(payload.get("submittedAt"))
    context = payload.get("context")
    if isinstance(context, dict):
        sub.fields["_context"] = context
    legal = payload.get("legalConsentOptions")
    if isinstance(legal, dict):
        sub.fields["_legalConsentOptions"] = legal
        consent = legal.get("consent")
        if isinstance(consent, dict):
            communications = consent.get("communications")
            for statement in communications if isinstance(communications, list) else []:
                _add_statement(sub, statement, "communication")
        _add_statement(sub, legal.get("legitimateInterest"), "legitimateInterest")
    for key, value in payload.items():
        if key not in {"fields", "context", "legalConsentOptions", "submittedAt"}:
            sub.fields[f"_{key}"] = value
    return sub
