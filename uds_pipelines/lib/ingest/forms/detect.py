"""Which provider sent a payload, decided from its shape rather than configured."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from uds_pipelines.lib.ingest.forms import flat, hubspot, netlify, typeform, webflow
from uds_pipelines.lib.ingest.forms.fields import Submission

# (payload, the source fields that hold an app's user id) -> what the provider sent
Extractor = Callable[[dict[str, Any], Sequence[str]], Submission]

PROVIDERS = ("hubspot", "typeform", "webflow", "netlify", "flat")


def detect_provider(payload: dict[str, Any]) -> tuple[str, Extractor]:
    """The provider and its extractor; `flat` when no webhook shape matches."""
    if typeform.response_of(payload) is not None:
        return "typeform", typeform.extract
    if webflow.looks_like_v2(payload):
        return "webflow", webflow.extract_v2
    if netlify.submission_of(payload) is not None:
        return "netlify", netlify.extract
    if webflow.looks_like_v1(payload):
        return "webflow", webflow.extract_v1
    if hubspot.looks_like(payload):
        return "hubspot", hubspot.extract
    return "flat", flat.extract
