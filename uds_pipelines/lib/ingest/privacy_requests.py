"""Data-subject requests (erasure, access, consent) from `inbox/privacy/` files, validated."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from uds_pipelines.lib import catalog
from uds_pipelines.lib.ingest.forms.fields import as_text, normalize_key, parse_bool, parse_timestamp
from uds_pipelines.lib.ingest.forms.reader import Item, read_items
from uds_pipelines.lib.ingest.results import ParseResult, consent_frame, parse_guarded
from uds_pipelines.lib.masking import mask_text
from uds_pipelines.lib.quarantine import QuarantineRecord

SOURCE = "privacy"
REQUEST_TYPES = ("erasure", "access", "consent")
IDENTIFIER_COLUMNS = ("email", "phone", "customer_id")
_COLUMNS = list(catalog.table("landed_privacy").columns)
_KEYS = {
    "requestid": "request_id",
    "id": "request_id",
    "type": "type",
    "requesttype": "type",
    "email": "email",
    "emailaddress": "email",
    "phone": "phone",
    "phonenumber": "phone",
    "customerid": "customer_id",
    "receivedat": "received_at",
    "received": "received_at",
    "purpose": "purpose",
    "granted": "granted",
}
_EXTRA_FALSE = {"revoked", "withdrawn", "optout", "opt_out", "opt-out"}
_EXTRA_TRUE = {"optin", "opt_in", "opt-in"}


def empty_privacy_frame() -> pd.DataFrame:
    return _frame([])


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=_COLUMNS, dtype=object)  # None stays None, not NaN
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True).astype("datetime64[ns, UTC]")
    frame["granted"] = frame["granted"].astype("boolean")
    frame["position"] = frame["position"].astype("int64")
    return frame


def _granted(value: Any) -> bool | None:
    parsed = parse_bool(value)
    if parsed is None and isinstance(value, str):
        word = value.strip().lower()
        parsed = True if word in _EXTRA_TRUE else False if word in _EXTRA_FALSE else None
    return parsed


def _purpose(value: Any) -> str | None:
    text = as_text(value)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or None if text else None


def validate_request(payload: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The request as a row, and the problems that stop it from being used (none = valid)."""
    fields: dict[str, Any] = {}
    for key, value in payload.items():
        column = _KEYS.get(normalize_key(key))
        if column and column not in fields:
            fields[column] = value
    row: dict[str, Any] = {c: None for c in _COLUMNS}
    problems: list[str] = []
    row["request_id"] = (as_text(fields.get("request_id")) or "").strip() or None
    if row["request_id"] is None:
        problems.append("missing request_id")
    kind = (as_text(fields.get("type")) or "").strip().lower()
    if not kind:
        problems.append("missing type")
    elif kind not in REQUEST_TYPES:
        problems.append(mask_text(f"unknown type {kind[:40]!r} (expected erasure, access or consent)"))
    row["type"] = kind or None
    for column in IDENTIFIER_COLUMNS:
        row[column] = (as_text(fields.get(column)) or "").strip() or None
    if not any(row[c] for c in IDENTIFIER_COLUMNS):
        problems.append("no identifier (email, phone or customer_id)")
    received = fields.get("received_at")
    row["received_at"] = parse_timestamp(received)
    if row["received_at"] is None:
        problems.append("missing received_at" if as_text(received) is None else "unparseable received_at")
    if kind == "consent":
        row["purpose"] = _purpose(fields.get("purpose"))
        row["granted"] = _granted(fields.get("granted"))
        if row["purpose"] is None:
            problems.append("consent request without purpose")
        if row["granted"] is None:
            missing = as_text(fields.get("granted")) is None
            problems.append(
                "consent request without granted" if missing else "consent request with unparseable granted"
            )
    return row, problems


def parse_privacy_file(path: Path, source_file: str | None = None) -> ParseResult:
    """Parse one privacy request file (*.json, *.jsonl, *.csv); never raises on bad input."""
    path = Path(path)
    source_file = source_file or path.name
    info: dict[str, Any] = {}
    return parse_guarded(_parse, path, source_file, SOURCE, "privacy", empty_privacy_frame(), info)


def _consent_rows(row: dict[str, Any], source_file: str) -> list[dict[str, Any]]:
    return [
        {
            "identifier_type": column,
            "identifier": row[column],
            "purpose": row["purpose"],
            "granted": row["granted"],
            "captured_at": row["received_at"],
            "source": SOURCE,
            "source_record": row["request_id"],
            "source_file": source_file,
        }
        for column in IDENTIFIER_COLUMNS
        if row[column]
    ]


def _parse(path: Path, source_file: str, info: dict[str, Any]) -> ParseResult:
    rows: list[dict[str, Any]] = []
    consents: list[dict[str, Any]] = []
    quarantine: list[QuarantineRecord] = []
    types: Counter[str] = Counter()
    records_read = 0
    item: Item
    for item in read_items(path, info):
        records_read += 1
        if item.payload is None:
            quarantine.append(
                QuarantineRecord(SOURCE, source_file, item.position, item.reason or "", item.raw)
            )
            continue
        row, problems = validate_request(item.payload)
        if problems:
            quarantine.append(
                QuarantineRecord(SOURCE, source_file, item.position, "; ".join(problems), item.raw)
            )
            continue
        row.update(source_file=source_file, position=item.position)
        rows.append(row)
        types[row["type"]] += 1
        if row["type"] == "consent":
            consents.extend(_consent_rows(row, source_file))
    if records_read == 0 and str(info.get("format", "")).startswith("jsonl"):
        quarantine.append(QuarantineRecord(SOURCE, source_file, 0, "empty file (blank lines only)", ""))
        records_read = 1
    info["types"] = dict(types)
    ids = Counter(r["request_id"] for r in rows)
    if any(n > 1 for n in ids.values()):
        info["duplicate_request_ids"] = sum(n - 1 for n in ids.values() if n > 1)
    return ParseResult(
        records=_frame(rows),
        quarantine=quarantine,
        consents=consent_frame(consents),
        records_read=records_read,
        info=info,
    )
