"""Independent reader of generated inbox files, so tests check ground truth against the bytes written."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

HEADER_ROWS = {
    "qualtrics_3row": 3,
    "qualtrics_legacy": 2,
    "surveymonkey": 2,
    "typeform": 1,
    "google_forms": 1,
}
ID_COLUMN = {
    "qualtrics_3row": "ResponseId",
    "surveymonkey": "Respondent ID",
    "typeform": "#",
    "google_forms": None,
}


def _json_or_none(data: bytes) -> object | None:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _event_id(obj: object) -> str | None:
    """The id of a well-formed Stripe event, else None."""
    if (
        not isinstance(obj, dict)
        or not isinstance(obj.get("id"), str)
        or not isinstance(obj.get("created"), int)
    ):
        return None
    data = obj.get("data")
    return obj["id"] if isinstance(data, dict) and isinstance(data.get("object"), dict) else None


def _form_id(obj: object) -> tuple[bool, str | None]:
    """(well formed, submission id when the payload has one)."""
    if not isinstance(obj, dict):
        return False, None
    if "form_response" in obj:
        return True, obj["form_response"]["token"]
    if obj.get("triggerType") == "form_submission":
        return True, obj["payload"]["id"]
    if "_id" in obj:
        return True, obj["_id"]
    if "payload" in obj and "site" in obj:
        return True, obj["payload"]["id"]
    if "submission_id" in obj:
        return True, obj["submission_id"]
    return "fields" in obj, None


def read_inbox(inbox: Path) -> list[tuple[str, int, bool, str | None]]:
    """Every record in the inbox as (inbox-relative file, position, well formed, record id)."""
    out: list[tuple[str, int, bool, str | None]] = []
    for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
        rel = path.relative_to(inbox).as_posix()
        source = rel.split("/", 1)[0]
        data = path.read_bytes()
        if path.suffix == ".jsonl":
            for pos, line in enumerate(data.splitlines(), start=1):
                obj = _json_or_none(line)
                if source == "stripe":
                    rid = _event_id(obj)
                    out.append((rel, pos, rid is not None, rid))
                elif source == "forms":
                    ok, rid = _form_id(obj)
                    out.append((rel, pos, ok, rid))
                else:
                    ok = isinstance(obj, dict) and obj.get("type") in ("erasure", "access", "consent")
                    ok = ok and any(k in obj for k in ("email", "phone", "customer_id"))
                    ok = ok and str(obj.get("received_at", "")).startswith("20")
                    out.append((rel, pos, ok, obj.get("request_id") if isinstance(obj, dict) else None))
        elif path.suffix == ".json":
            obj = _json_or_none(data)
            if obj is None:
                out.append((rel, 0, False, None))
            elif source == "stripe" and obj.get("object") == "list":
                out.extend(
                    (rel, i, _event_id(o) is not None, _event_id(o)) for i, o in enumerate(obj["data"], 1)
                )
            elif source == "stripe":
                out.append((rel, 1, _event_id(obj) is not None, _event_id(obj)))
            else:
                ok, rid = _form_id(obj)
                out.append((rel, 1, ok, rid))
        elif path.suffix == ".csv":
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
            layout = next((k for k in HEADER_ROWS if path.name.startswith(k)), "flat")
            skip = HEADER_ROWS.get(layout, 1)
            id_col = rows[0].index(ID_COLUMN[layout]) if ID_COLUMN.get(layout) else None
            if layout == "flat":
                id_col = rows[0].index("submission_id")
            for pos, row in enumerate(rows[skip:], start=1):
                ok = len(row) == len(rows[0])
                out.append((rel, pos, ok, row[id_col] if id_col is not None and id_col < len(row) else None))
    return out
