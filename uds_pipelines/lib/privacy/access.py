"""Access requests: everything held about a person, as one JSON document under exports/access_requests/."""

from __future__ import annotations

import csv
import json
import math
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from uds_pipelines.lib import lake
from uds_pipelines.lib.privacy.requests import Subject
from uds_pipelines.lib.privacy.variants import collect_raw_values

ACCESS_DIR = "access_requests"


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


def _parse_json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


def build_access_report(
    con: duckdb.DuckDBPyConnection,
    lake_dir: Path,
    exports_dir: Path,
    subject: Subject,
    default_region: str = "US",
) -> dict:
    """Profile, identifiers, consent statements, Stripe objects, survey answers, form submissions,
    segment memberships and history, and audiences the person was exported to."""
    if not subject.raw_values:
        collect_raw_values(con, lake_dir, [subject], default_region)
    customers = set(subject.customer_ids)
    stripe_ids = subject.values("stripe_customer")
    surveys, forms = subject.record_ids("survey"), subject.record_ids("form")
    records = subject.record_ids() | stripe_ids
    emails, phones = subject.values("email"), subject.values("phone")
    spellings = {v.lower() for v in subject.raw_values} | emails | phones

    def table(path: str, columns: dict[str, str]) -> str:
        return lake.read_table_sql(lake_dir / path, columns)

    report: dict[str, Any] = {
        "request_id": subject.request_id,
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "customer_ids": sorted(customers),
        "identifiers": [{"type": t, "value": v} for t, v in sorted(set(subject.identifiers))],
        "records": [{"source": s, "record_id": r} for s, r in sorted(subject.records)],
    }
    report["profile"] = _rows(
        con,
        f"SELECT * FROM {table(lake.PROFILES, {'customer_id': 'VARCHAR'})} WHERE customer_id IN {_in(customers)}",
    )
    ledger = lake_dir / "consent" / "consent_ledger.parquet"
    consent_src = (
        lake.read_table_sql(ledger, {})
        if ledger.exists()
        else table(
            lake.LANDED_CONSENT,
            {"identifier": "VARCHAR", "identifier_type": "VARCHAR", "source_record": "VARCHAR"},
        )
    )
    report["consents"] = _rows(
        con,
        f"SELECT * FROM {consent_src} WHERE source_record IN {_in(records)} OR lower(trim(identifier)) IN {_in(spellings)} "
        f"OR (identifier_type IN ('customer_id', 'stripe_customer') AND identifier IN {_in(customers | stripe_ids)}) "
        "ORDER BY captured_at",
    )
    stripe = table(
        lake.LANDED_STRIPE,
        {"event_id": "VARCHAR", "customer_ref": "VARCHAR", "payload": "VARCHAR", "created": "TIMESTAMPTZ"},
    )
    events = con.execute(
        f"SELECT DISTINCT ON (event_id) event_id, payload FROM {stripe} WHERE customer_ref IN {_in(stripe_ids)} ORDER BY event_id"
    ).fetchall()
    report["stripe_events"] = [_parse_json(p) for _, p in events]
    responses = table(f"{lake.LANDED_SURVEYS}/responses", {"response_id": "VARCHAR"})
    answers = table(f"{lake.LANDED_SURVEYS}/answers", {"response_id": "VARCHAR"})
    report["survey_responses"] = _rows(con, f"SELECT * FROM {responses} WHERE response_id IN {_in(surveys)}")
    report["survey_answers"] = _rows(con, f"SELECT * FROM {answers} WHERE response_id IN {_in(surveys)}")
    submissions = _rows(
        con,
        f"SELECT * FROM {table(lake.LANDED_FORMS, {'submission_id': 'VARCHAR'})} WHERE submission_id IN {_in(forms)}",
    )
    for row in submissions:
        if "fields_json" in row:
            row["fields_json"] = _parse_json(row["fields_json"])
    report["form_submissions"] = submissions
    report["segments"] = _rows(
        con,
        f"SELECT * FROM {table(lake.SEGMENT_MEMBERSHIP, {'customer_id': 'VARCHAR'})} WHERE customer_id IN {_in(customers)}",
    )
    history = table("segments/segment_history.parquet", {"customer_id": "VARCHAR"})
    report["segment_history"] = _rows(con, f"SELECT * FROM {history} WHERE customer_id IN {_in(customers)}")
    members = table("audiences", {"customer_id": "VARCHAR"})
    report["audience_memberships"] = _rows(
        con, f"SELECT * FROM {members} WHERE customer_id IN {_in(customers)}"
    )
    report["audience_exports"] = _audience_exports(exports_dir, customers)
    return report


def _audience_exports(exports_dir: Path, customers: set[str]) -> list[dict]:
    found = []
    folder = exports_dir / "audiences"
    if not folder.is_dir() or not customers:
        return found
    for path in sorted(folder.glob("*/*.csv")):
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("customer_id") in customers:
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
