"""`parse_form_file`: one inbox form file -> submissions, consent statements and quarantine."""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from uds_pipelines.lib import catalog
from uds_pipelines.lib.config import DEFAULT_EXTERNAL_ID_FIELDS
from uds_pipelines.lib.ingest.forms.detect import detect_provider
from uds_pipelines.lib.ingest.forms.fields import Submission, is_blank, stable_submission_id
from uds_pipelines.lib.ingest.forms.flat import recognized_key
from uds_pipelines.lib.ingest.forms.reader import read_items
from uds_pipelines.lib.ingest.results import ParseResult, consent_frame, parse_guarded
from uds_pipelines.lib.masking import mask_text
from uds_pipelines.lib.quarantine import QuarantineRecord, decode_raw

# The parser names its quarantine rows after the inbox folder; landing stores them under the
# singular record source (`form`), the name consent statements and the identity map use too.
QUARANTINE_SOURCE = "forms"
CONSENT_SOURCE = "form"
MAX_KEYS_IN_REASON = 12
_COLUMNS = list(catalog.table("landed_forms").columns)


def empty_forms_frame() -> pd.DataFrame:
    return _frame([])


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=_COLUMNS, dtype=object)  # None stays None, not NaN
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True).astype("datetime64[ns, UTC]")
    frame["position"] = frame["position"].astype("int64")
    return frame


def _unrecognized_reason(keys: list[str]) -> str:
    shown = sorted(str(k) for k in keys)
    listed = ", ".join(shown[:MAX_KEYS_IN_REASON]) + (", ..." if len(shown) > MAX_KEYS_IN_REASON else "")
    return mask_text(f"unrecognized form payload: keys {listed or '(none)'}")


class _Collector:
    """Accumulates rows and statements; per-record state stays in small dicts."""

    def __init__(self, source_file: str, info: dict) -> None:
        self.source_file, self.info = source_file, info
        self.rows: list[dict[str, Any]] = []
        self.consents: list[dict[str, Any]] = []
        self.providers: Counter[str] = Counter()
        self.notes: Counter[str] = Counter()
        self.mappings: dict[str, str] = {}
        self.seen_ids: set[str] = set()
        self.duplicates = 0
        self.unidentified_consents = 0

    def add(self, sub: Submission, payload: dict[str, Any], position: int) -> None:
        submission_id = sub.submission_id or stable_submission_id(payload)
        self.duplicates += submission_id in self.seen_ids
        self.seen_ids.add(submission_id)
        self.providers[sub.provider] += 1
        self.notes.update(sub.notes)
        fields = {k: v for k, v in sub.fields.items() if not is_blank(v)}
        row = {column: sub.columns.get(column) for column in _COLUMNS}
        row.update(
            submission_id=submission_id,
            form_provider=sub.provider,
            form_id=sub.form_id,
            submitted_at=sub.submitted_at,
            fields_json=json.dumps(fields, ensure_ascii=False, default=str) if fields else None,
            source_file=self.source_file,
            position=position,
        )
        self.rows.append(row)
        self._add_consents(sub, row)

    def _add_consents(self, sub: Submission, row: dict[str, Any]) -> None:
        for purpose, granted, note in sub.consents:
            if note:
                self.mappings[note] = purpose
            if row["email"]:
                identifier_type, identifier = "email", row["email"]
            elif row["phone"] and purpose == "sms_marketing":
                identifier_type, identifier = "phone", row["phone"]
            else:
                self.unidentified_consents += 1
                continue
            self.consents.append(
                {
                    "identifier_type": identifier_type,
                    "identifier": identifier,
                    "purpose": purpose,
                    "granted": granted,
                    "captured_at": row["submitted_at"],
                    "source": CONSENT_SOURCE,
                    "source_record": row["submission_id"],
                    "source_file": self.source_file,
                }
            )

    def finish_info(self) -> None:
        self.info["providers"] = dict(self.providers)
        if self.notes:
            self.info["notes"] = dict(self.notes)
        if self.mappings:
            self.info["consent_mappings"] = self.mappings
        if self.duplicates:
            self.info["duplicate_submission_ids"] = self.duplicates
        if self.unidentified_consents:
            self.info["consents_skipped_no_identifier"] = self.unidentified_consents


def parse_form_file(
    path: Path, source_file: str | None = None, external_id_fields: Sequence[str] = DEFAULT_EXTERNAL_ID_FIELDS
) -> ParseResult:
    """Parse one form file (*.json, *.jsonl, *.csv); never raises on bad input. Fields named in
    `external_id_fields` (`Settings.external_id_fields`) give `external_id`."""
    path = Path(path)
    source_file = source_file or path.name
    info: dict[str, Any] = {"providers": {}}
    parse = functools.partial(_parse, external_id_fields=tuple(external_id_fields))
    return parse_guarded(parse, path, source_file, QUARANTINE_SOURCE, "form", empty_forms_frame(), info)


def _whole_file(path: Path, source_file: str, reason: str) -> list[QuarantineRecord]:
    return [QuarantineRecord(QUARANTINE_SOURCE, source_file, 0, reason, decode_raw(path.read_bytes()))]


def _header_problem(info: dict[str, Any], external_id_fields: Sequence[str]) -> str | None:
    """Why a CSV as a whole cannot be form rows: no header at all, or no column we know."""
    header = info.get("csv_header")
    if header is None:
        return "empty file"
    if not any(recognized_key(h, external_id_fields) for h in header):
        return mask_text("unrecognized form CSV header: columns " + ", ".join(header[:20]))
    return None


def _parse(
    path: Path, source_file: str, info: dict[str, Any], external_id_fields: Sequence[str]
) -> ParseResult:
    collector = _Collector(source_file, info)
    quarantine: list[QuarantineRecord] = []
    records_read = 0
    for item in read_items(path, info):
        if records_read == 0 and info.get("format") == "csv" and _header_problem(info, external_id_fields):
            break
        records_read += 1
        if item.payload is None:
            quarantine.append(
                QuarantineRecord(QUARANTINE_SOURCE, source_file, item.position, item.reason or "", item.raw)
            )
            continue
        provider, extract = detect_provider(item.payload)
        sub = extract(item.payload, external_id_fields)
        sub.finish_names()
        if provider == "flat" and not sub.has_usable_fields():
            reason = _unrecognized_reason(list(item.payload))
            quarantine.append(
                QuarantineRecord(QUARANTINE_SOURCE, source_file, item.position, reason, item.raw)
            )
            continue
        collector.add(sub, item.payload, item.position)
    if records_read == 0:
        # Nothing read: a CSV without a usable header, or a JSONL of blank lines, is kept whole so
        # that no file vanishes without a trace. An empty JSON list is a valid empty delivery.
        problem = _header_problem(info, external_id_fields) if info.get("format") == "csv" else None
        if problem or str(info.get("format", "")).startswith("jsonl"):
            quarantine = _whole_file(path, source_file, problem or "empty file")
            records_read = 1
    collector.finish_info()
    return ParseResult(
        records=_frame(collector.rows),
        quarantine=quarantine,
        consents=consent_frame(collector.consents),
        records_read=records_read,
        info=info,
    )
