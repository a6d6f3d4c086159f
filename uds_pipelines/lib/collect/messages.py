"""Segment Tracking API messages: body decoding, validation, size limits, clock skew, stored line.

What a stored line looks like is the interface with the events landing: one JSON object per line,
UTF-8, the fields Segment's and RudderStack's storage destinations write (`type`, `messageId`,
`userId`, `anonymousId`, `event`, `properties`, `traits`, `context`, `timestamp`,
`originalTimestamp`, `sentAt`, `receivedAt`, and whatever else the call carried, such as `name`,
`groupId` or `previousId`) plus `source`, the name of the write key it came in with.

Reasons given back to the client name positions and fields, never values: a 400 body ends up in
SDK logs, and values are personal data.
"""

from __future__ import annotations

import json
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from uds_pipelines.lib import safe_json

# Segment's limits: "500 KB per batch request and 32 KB per call".
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024

MESSAGE_TYPES = ("track", "identify", "page", "screen", "group", "alias")
# The last path segment of POST /v1/<kind>: Segment's names, analytics.js's one-letter paths
# (it posts to `<apiHost>/t`, `/i`, `/p` ... and `/b` when batching) and Segment's `import`.
PATH_KINDS = {
    **{name: name for name in MESSAGE_TYPES},
    **{name[0]: name for name in MESSAGE_TYPES},
    "batch": "batch",
    "b": "batch",
    "import": "batch",
}
# Fields every stored line carries (null when the call had none), in this order.
LEAD_FIELDS = (
    "type",
    "messageId",
    "source",
    "userId",
    "anonymousId",
    "event",
    "properties",
    "traits",
    "context",
)
TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")
OBJECT_FIELDS = ("properties", "traits", "context", "integrations")
ID_FIELDS = ("userId", "anonymousId", "groupId", "previousId", "messageId")


class BadRequest(ValueError):
    """The request cannot be accepted; `str()` is a reason that is safe to send back and log."""

    status = 400


class TooLarge(BadRequest):
    status = 413


def decompress(body: bytes, encoding: str | None, limit: int = MAX_BATCH_BYTES) -> bytes:
    """The body without its Content-Encoding, never inflated past `limit` (a gzip bomb stops there)."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BadRequest(f"unsupported Content-Encoding {encoding[:20]!r}: send gzip or none")
    inflater = zlib.decompressobj(wbits=47)  # 32 + 15: gzip or zlib header, detected
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadRequest("body is not valid gzip") from exc
    if len(out) > limit:
        raise TooLarge(f"request body over the {limit // 1024} KB batch limit once decompressed")
    if not inflater.eof:
        raise BadRequest("gzip body is truncated")
    return out


@dataclass
class Payload:
    messages: list[dict]
    write_key: object = None  # `writeKey` in the body, as sent
    sent_at: object = None
    context: object = None  # batch-level context and integrations apply to every message
    integrations: object = None


def parse_payload(body: bytes, kind: str) -> Payload:
    """Decode a request body for POST /v1/<kind> (`kind` already mapped through PATH_KINDS)."""
    decoded = safe_json.decode(body)
    if not decoded.ok:
        raise BadRequest(decoded.error or "body is not valid JSON")
    document = decoded.value
    if not isinstance(document, dict):
        raise BadRequest("body is not a JSON object")
    if kind != "batch":
        # A single call: its type is the path's, whatever the body says (as Segment does).
        document["type"] = kind
        return Payload([document], document.get("writeKey"))
    batch = document.get("batch")
    if not isinstance(batch, list) or not batch:
        raise BadRequest("batch is missing or not a non-empty list")
    for index, message in enumerate(batch):
        if not isinstance(message, dict):
            raise BadRequest(f"batch[{index}] is not an object")
    for name in ("context", "integrations"):
        if document.get(name) is not None and not isinstance(document[name], dict):
            raise BadRequest(f"batch-level {name} is not an object")
    write_key = document.get("writeKey")
    if write_key is None:
        # analytics.js puts the key in each event when it batches.
        write_key = batch[0].get("writeKey")
    return Payload(
        batch, write_key, document.get("sentAt"), document.get("context"), document.get("integrations")
    )


def parse_time(value: object, where: str) -> datetime | None:
    """An ISO 8601 string as an aware UTC datetime; no zone means UTC, as the Segment libraries assume."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{where} is not an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadRequest(f"{where} is not an ISO 8601 date") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def corrected_timestamp(
    received_at: datetime, sent_at: datetime | None, original: datetime | None
) -> datetime:
    """Segment's clock-skew rule: `receivedAt - (sentAt - originalTimestamp)`.

    The device clock may be wrong, but the gap between the event and the send is measured on that
    one clock, so it moves onto ours. A timestamp without `sentAt` (server-side imports) is kept
    as given; no timestamp at all means the event happened when we received it.
    """
    if original is None:
        return received_at
    if sent_at is None:
        return original
    return received_at - (sent_at - original)


def format_time(value: datetime | None) -> str | None:
    """UTC with milliseconds and a `Z`, as Segment writes its timestamps."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _check(message: dict, where: str) -> None:
    kind = message.get("type")
    if kind not in MESSAGE_TYPES:
        raise BadRequest(f"{where} has no valid type (one of {', '.join(MESSAGE_TYPES)})")
    for name in ID_FIELDS:
        value = message.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
            raise BadRequest(f"{where}.{name} is not a string")
    for name in OBJECT_FIELDS:
        if message.get(name) is not None and not isinstance(message[name], dict):
            raise BadRequest(f"{where}.{name} is not an object")
    if kind == "alias":
        if message.get("previousId") in (None, "") or message.get("userId") in (None, ""):
            raise BadRequest(f"{where}: alias needs previousId and userId")
    elif message.get("userId") in (None, "") and message.get("anonymousId") in (None, ""):
        raise BadRequest(f"{where} has neither userId nor anonymousId")
    if kind == "track" and (not isinstance(message.get("event"), str) or not message["event"].strip()):
        raise BadRequest(f"{where}: track needs an event name")
    if kind == "group" and message.get("groupId") in (None, ""):
        raise BadRequest(f"{where}: group needs a groupId")


def message_size(message: dict) -> int:
    try:
        return len(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    except RecursionError as exc:
        raise BadRequest("JSON nested too deeply to store") from exc


def normalize(message: dict, where: str, payload: Payload, source: str, received_at: datetime) -> dict:
    """The stored form of one message: checked, timestamps corrected, `source` and `receivedAt` set."""
    _check(message, where)
    size = message_size(message)
    if size > MAX_MESSAGE_BYTES:
        raise TooLarge(f"{where} is {size} bytes, over the {MAX_MESSAGE_BYTES // 1024} KB message limit")
    original = parse_time(message.get("originalTimestamp"), f"{where}.originalTimestamp") or parse_time(
        message.get("timestamp"), f"{where}.timestamp"
    )
    sent_raw = message.get("sentAt") if message.get("sentAt") is not None else payload.sent_at
    sent_at = parse_time(sent_raw, f"{where}.sentAt")
    try:
        timestamp = corrected_timestamp(received_at, sent_at, original)
    except OverflowError as exc:
        raise BadRequest(f"{where}: timestamp out of range after clock-skew correction") from exc
    out: dict = {name: message.get(name) for name in LEAD_FIELDS}
    if isinstance(payload.context, dict):
        out["context"] = {**payload.context, **(message.get("context") or {})}
    if isinstance(payload.integrations, dict) and "integrations" not in message:
        out["integrations"] = payload.integrations
    for name in ID_FIELDS:
        if isinstance(message.get(name), int):
            out[name] = str(message[name])  # numeric ids become strings, as the SDKs send them
    out["messageId"] = out.get("messageId") or str(uuid.uuid4())
    out["source"] = source
    out["timestamp"] = format_time(timestamp)
    out["originalTimestamp"] = format_time(original)
    out["sentAt"] = format_time(sent_at)
    out["receivedAt"] = format_time(received_at)
    for name, value in message.items():
        # The write key is a credential, not data; everything else the call carried is kept.
        if name not in out and name != "writeKey":
            out[name] = value
    return out


# The field of a stored line that holds why the collector refused the call: the events landing
# quarantines such a line with this reason instead of landing it.
REFUSED_FIELD = "uds_refused"


def refused_line(message: dict, where: str, reason: str, source: str, received_at: datetime) -> dict:
    """A batch call that failed validation, stored as sent (minus `writeKey`) with the reason; the
    size limit and JSON nesting still refuse the request (413, 400), as for any call."""
    size = message_size(message)
    if size > MAX_MESSAGE_BYTES:
        raise TooLarge(f"{where} is {size} bytes, over the {MAX_MESSAGE_BYTES // 1024} KB message limit")
    out = {name: value for name, value in message.items() if name != "writeKey"}
    out.update(source=source, receivedAt=format_time(received_at))
    out[REFUSED_FIELD] = reason
    return out


def spool_id(stored: dict) -> str:
    """The id the spool de-duplicates a stored line by: its messageId, or a fresh one for a refused
    call without a usable one (a retry of it is then stored twice and quarantined twice)."""
    message_id = stored.get("messageId")
    return message_id if isinstance(message_id, str) and message_id else str(uuid.uuid4())


def encode_line(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
