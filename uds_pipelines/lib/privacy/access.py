"""Access requests: everything held about a person, as one JSON document under exports/access_requests/."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from uds_pipelines.lib import catalog, lake, safe_json
from uds_pipelines.lib.privacy.requests import Subject
from uds_pipelines.lib.privacy.tables import fresh_views
from uds_pipelines.lib.privacy.variants import collect_raw_values

ACCESS_DIR = "access_requests"
# Landed JSON nested deeper than this stays text in a report: walking and re-encoding it would
# exhaust Python's stack (real Stripe objects and form fields nest a handful of levels).
MAX_DECODED_DEPTH = 64


def json_safe(value: Any) -> Any:
    """Plain JSON values: timestamps as ISO strings, NaN/NaT as null, numpy scalars as Python."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [json_safe(v) for v in value]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    return value


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    return [json_safe(r) for r in con.sql(sql).to_arrow_table().to_pylist()]


def _in(values: set[str]) -> str:
    return f"({lake.sql_literal_list(sorted(values))})" if values else "(NULL)"


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether a decoded JSON value nests more than `limit` levels (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return False


def _parse_json(text: Any) -> Any:
    """A landed JSON text as its value; text that cannot be decoded (or nests too deep) stays text."""
    if not isinstance(text, str):
        return text
    decoded = safe_json.decode(text)
    if not decoded.ok or _deeper_than(decoded.value, MAX_DECODED_DEPTH):
        return text
    return decoded.value


# Report section -> the catalog table (view) it lists the person's rows of, every column.
SECTION_TABLES = {
    "profile": "customer_profiles",
    "stripe": "landed_stripe",
    "survey_responses": "landed_survey_responses",
    "survey_answers": "landed_survey_answers",
    "form_submissions": "landed_forms",
    "segments": "segment_membership",
    "segment_history": "segment_history",
    "audience_memberships": "audience_members",
    "events": "events",
}
# Consent statements: the ledger once the consent stage has written it, else the landed statements.
CONSENT_TABLES = ("consent_ledger", "landed_consent")


def _keys(subjects: list[Subject]) -> dict[str, set[str]]:
    """The values that select a person's rows, united over `subjects`."""
    names = ("customers", "stripe", "surveys", "forms", "records", "spellings", "event_users", "event_anons")
    keys: dict[str, set[str]] = {k: set() for k in names}
    for subject in subjects:
        stripe_ids = subject.values("stripe_customer")
        keys["customers"] |= set(subject.customer_ids)
        keys["stripe"] |= stripe_ids
        keys["surveys"] |= subject.record_ids("survey")
        keys["forms"] |= subject.record_ids("form")
        keys["records"] |= subject.record_ids() | stripe_ids
        keys["event_users"] |= {v for _kind, v in subject.event_ids("user")}
        keys["event_anons"] |= {v for _kind, v in subject.event_ids("anon")}
        keys["spellings"] |= {v.lower() for v in subject.raw_values} | subject.values("email") | subject.values("phone")
    return keys


def _where(name: str, k: dict[str, set[str]]) -> str:
    if name == "consents":
        return (
            f"source_record IN {_in(k['records'])} OR lower(trim(identifier)) IN {_in(k['spellings'])} "
            f"OR (identifier_type IN ('customer_id', 'stripe_customer') AND identifier IN {_in(k['customers'] | k['stripe'])})"
        )
    if name == "stripe":
        return f"customer_ref IN {_in(k['stripe'])}"
    if name == "events":  # as erasure decides: an anonymous id only speaks for events without a user
        return (
            f"user_id IN {_in(k['event_users'])} OR (user_id IS NULL AND anonymous_id IN {_in(k['event_anons'])}) "
            f"OR previous_id IN {_in(k['event_users'] | k['event_anons'])}"
        )
    if name in ("survey_responses", "survey_answers"):
        return f"response_id IN {_in(k['surveys'])}"
    if name == "form_submissions":
        return f"submission_id IN {_in(k['forms'])}"
    return f"customer_id IN {_in(k['customers'])}"


def section_tables(con: duckdb.DuckDBPyConnection, lake_dir: Path) -> dict[str, str]:
    """The view every section of a report reads, registered on `con` as the lake is now."""
    fresh_views(con, lake_dir, *SECTION_TABLES.values(), *CONSENT_TABLES)
    ledger, landed = CONSENT_TABLES
    consents = ledger if catalog.path(lake_dir, ledger).exists() else landed
    return {**SECTION_TABLES, "consents": consents}


def prefetch_sources(con: duckdb.DuckDBPyConnection, lake_dir: Path, subjects: list[Subject]) -> dict[str, str]:
    """Every table cut down, in one scan each, to the rows of any of `subjects`, as temp tables.

    A batch of access requests then reads the lake once instead of once per request, which is
    what makes a batch affordable when each read is an object-storage request.
    """
    keys = _keys(subjects)
    sources = {}
    for name, table in section_tables(con, lake_dir).items():
        temp = f"_access_{name}"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {temp} AS SELECT * FROM {table} WHERE {_where(name, keys)}"
        )
        sources[name] = temp
    return sources


def drop_prefetched(con: duckdb.DuckDBPyConnection, sources: dict[str, str]) -> None:
    for temp in sources.values():
        con.execute(f"DROP TABLE IF EXISTS {temp}")


def build_access_report(
    con: duckdb.DuckDBPyConnection,
    lake_dir: Path,
    exports_dir: Path,
    subject: Subject,
    default_region: str = "US",
    sources: dict[str, str] | None = None,
) -> dict:
    """Profile, identifiers, consent statements, Stripe objects, survey answers, form submissions,
    segment memberships and history, audiences the person was exported to, and behavioural events.

    `sources` (from `prefetch_sources`, after `collect_raw_values` for the whole batch) replaces
    the lake tables when a batch is processed."""
    if sources is None:
        if not subject.raw_values:
            collect_raw_values(con, lake_dir, [subject], default_region)
        sources = section_tables(con, lake_dir)
    keys = _keys([subject])

    def rows(name: str, order: str = "") -> list[dict]:
        return _rows(con, f"SELECT * FROM {sources[name]} WHERE {_where(name, keys)} {order}")

    report: dict[str, Any] = {
        "request_id": subject.request_id,
        "generated_at": datetime.now(UTC).isoformat(),
        "customer_ids": sorted(keys["customers"]),
        "identifiers": [{"type": t, "value": v} for t, v in sorted(set(subject.identifiers))],
        "records": [{"source": s, "record_id": r} for s, r in sorted(subject.records)],
    }
    report["profile"] = rows("profile")
    report["consents"] = rows("consents", "ORDER BY captured_at")
    events = con.execute(
        f"SELECT DISTINCT ON (event_id) event_id, payload FROM {sources['stripe']} "
        f"WHERE {_where('stripe', keys)} ORDER BY event_id"
    ).fetchall()
    report["stripe_events"] = [_parse_json(p) for _, p in events]
    report["survey_responses"] = rows("survey_responses")
    report["survey_answers"] = rows("survey_answers")
    submissions = rows("form_submissions")
    for row in submissions:
        if "fields_json" in row:
            row["fields_json"] = _parse_json(row["fields_json"])
    report["form_submissions"] = submissions
    report["segments"] = rows("segments")
    report["segment_history"] = rows("segment_history")
    report["audience_memberships"] = rows("audience_memberships")
    report["events"] = [
        {**row, **{c: _parse_json(row.get(c)) for c in ("properties", "traits", "context", "violations")}}
        for row in rows("events", "ORDER BY timestamp, message_id")
    ]
    report["audience_exports"] = _audience_exports(exports_dir, keys["customers"])
    return report


def _audience_exports(exports_dir: Path, customers: set[str]) -> list[dict]:
    found = []
    folder = exports_dir / "audiences"
    if not folder.is_dir() or not customers:
        return found
    for path in sorted(folder.glob("*/*.csv")):
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            for row in csv.DictReader(handle):
                # Meta files carry our id as extern_id; Google files carry none (the person's
                # Google audiences show under audience_memberships)
                if (row.get("customer_id") or row.get("extern_id")) in customers:
                    found.append({"audience": path.parent.name, "file": path.name, "row": row})
    return found


def write_access_report(exports_dir: Path, request_id: str, report: dict) -> Path:
    """Write `exports/access_requests/<request_id>.json` atomically."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in request_id) or "request"
    final = exports_dir / ACCESS_DIR / f"{safe}.json"
    tmp = lake.temp_path_for(final)
    try:
        tmp.write_text(json.dumps(json_safe(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        lake.atomic_replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final
