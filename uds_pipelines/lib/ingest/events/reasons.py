"""Readable quarantine reasons for bad messages (the codes come from `sql.REASON`)."""

from __future__ import annotations

import re

from uds_pipelines.lib import safe_json
from uds_pipelines.lib.ingest.events.plan_check import UNPLANNED
from uds_pipelines.lib.ingest.events.sql import EARLIEST, LATEST, MAX_MESSAGE_BYTES, MESSAGE_TYPES
from uds_pipelines.lib.masking import mask_text

SOURCE = "event"  # the record source in quarantine rows
_DETAIL_CHARS = 80  # values come from the input: masked and cut short

_JSON_TYPE_NAMES = {"ARRAY": "JSON array", "VARCHAR": "JSON string", "BOOLEAN": "JSON boolean", "NULL": "JSON null"}


_DATE_LIKE = re.compile(r"[0-9TZ:.+\- ]*")  # digits of a date are not a phone number: kept readable


def _value(detail: str | None) -> str:
    text = (detail or "")[:_DETAIL_CHARS]
    return repr(text if _DATE_LIKE.fullmatch(text) else mask_text(text))


def describe(code: str, detail: str | None, raw: str | None, length: int | None, line: int) -> str:
    """The reason for quarantine row at `line`; `detail` is the offending value where there is one."""
    where = f"line {line}"
    if code == "too_large":
        return f"message of {length} bytes past Segment's {MAX_MESSAGE_BYTES // 1024} KB limit at {where}"
    if code == "refused":
        # the collector's own reason: it names positions and fields, never values
        return f"refused by uds-collect: {mask_text((detail or '')[:200])} at {where}"
    if code == "invalid_json":
        decoded = safe_json.decode(raw or "")
        if decoded.ok:
            return f"invalid JSON at {where}: non-standard JSON value"
        return decoded.reason_at(where)
    if code.startswith("not_object:"):
        name = _JSON_TYPE_NAMES.get(code.split(":", 1)[1], "JSON number")
        return f"{name} where a message object is expected at {where}"
    if code == "no_type":
        return f"message without type at {where}"
    if code == "unknown_type":
        return f"unknown message type {_value(detail)} (expected {', '.join(MESSAGE_TYPES)}) at {where}"
    if code == "no_message_id":
        return f"message without messageId at {where}"
    if code == "no_timestamp":
        return f"message without timestamp or originalTimestamp at {where}"
    if code == "bad_timestamp":
        return f"unparseable timestamp {_value(detail)} (ISO 8601 between {EARLIEST} and {LATEST}) at {where}"
    if code == "no_event":
        return f"track message without event name at {where}"
    if code == "bad_id":
        return f"userId or anonymousId is not a string at {where}"
    if code == "not_object_field":
        return f"{detail} is not a JSON object at {where}"
    if code == "no_identity":
        return f"message without userId or anonymousId at {where}"
    return f"unusable message ({code}) at {where}"


def plan_reason(event: str | None, problem: str, line: int) -> str:
    """A record the tracking plan quarantines (Snowplow's failed events, Segment Protocols' blocked)."""
    if problem == UNPLANNED:
        return f"tracking plan: unplanned event {_value(event)} at line {line}"
    return f"tracking plan violation in {_value(event)}: {problem} at line {line}"
