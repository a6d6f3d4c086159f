"""Privacy requests as durable state: received, in progress, done.

- received: the request row in `lake/landed/privacy/` (landing wrote it atomically). It stays
  there, untouched by erasure, until the request's audit row exists.
- in progress (erasure): `lake/privacy/erasures_in_progress.parquet` holds the request resolved
  to the whole person (customer ids, identifiers, records, spellings, Stripe object ids), written
  atomically and fsynced before suppression or any deletion starts. A crash leaves it behind,
  and the next run erases from it even though the identity graph no longer knows the person.
- done: the audit row (`lake/privacy/requests_audit.parquet`), written after the work. Only then
  are the request rows and the in-progress entry removed, and the verification scan proves it.

The in-progress file holds identifiers in clear, on purpose: keyed hashes cannot find spellings
in free text or rows in exports and the warehouse. It lives only while an erasure is unfinished.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from uds_pipelines.lib import catalog, lake_views, storage
from uds_pipelines.lib.privacy.requests import STATUS_FOUND, Subject
from uds_pipelines.lib.privacy.tables import fresh_views, read_table

# The catalog table; its `subject` column is JSON: ids, identifiers, records, spellings, Stripe objects.
IN_PROGRESS = "erasures_in_progress"
IN_PROGRESS_FILE = catalog.TABLES[IN_PROGRESS].path  # for the crash tests (uds_pipelines_tests/cli)
_PAIRS = ("identifiers", "records", "requested", "shared")
_SETS = ("raw_values", "stripe_objects")


def _received(value: object) -> pd.Timestamp | None:
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _row(subject: Subject) -> dict:
    body = {"customer_ids": sorted(subject.customer_ids)}
    body |= {name: sorted(map(list, getattr(subject, name))) for name in _PAIRS}
    body |= {name: sorted(getattr(subject, name)) for name in _SETS}
    return {
        "request_id": subject.request_id,
        "type": subject.type,
        "received_at": _received(subject.received_at),
        "status": subject.status,
        "subject": json.dumps(body, sort_keys=True),
    }


def _subject(row: dict) -> Subject:
    body = json.loads(row["subject"])
    subject = Subject(
        request_id=row["request_id"], type=row["type"], received_at=row["received_at"], status=row["status"]
    )
    subject.customer_ids = list(body["customer_ids"])
    for name in _PAIRS:
        setattr(subject, name, [(str(a), str(b)) for a, b in body[name]])
    for name in _SETS:
        setattr(subject, name, set(body[name]))
    return subject


def load_in_progress(lake_dir: Path, con: duckdb.DuckDBPyConnection | None = None) -> list[Subject]:
    """Erasures started and not yet finished (left by a crash), as resolved subjects."""
    return [_subject(row) for row in read_table(lake_dir, IN_PROGRESS, con).to_pylist()]


def save_in_progress(
    lake_dir: Path, subjects: list[Subject], con: duckdb.DuckDBPyConnection | None = None
) -> None:
    """Commit `subjects` as in progress (atomic, fsynced) before any of their work begins."""
    rows = [_row(s) for s in sorted(subjects, key=lambda s: s.request_id)]
    table = pa.Table.from_pylist(rows, schema=catalog.table(IN_PROGRESS).schema)
    lake_views.write_arrow(lake_dir, IN_PROGRESS, table, con=con)


def clear_in_progress(
    lake_dir: Path, request_ids: set[str], con: duckdb.DuckDBPyConnection | None = None
) -> None:
    """Forget finished erasures; the file goes when none is left, durably."""
    left = [s for s in load_in_progress(lake_dir, con) if s.request_id not in request_ids]
    path = catalog.path(lake_dir, IN_PROGRESS)
    if left:
        save_in_progress(lake_dir, left, con)
    elif path.exists():
        storage.remove(path)
        if con is not None:
            fresh_views(con, lake_dir, IN_PROGRESS)


def merge_subjects(fresh: list[Subject], saved: list[Subject]) -> list[Subject]:
    """`fresh` resolutions completed with what `saved` (in progress) knew about the same requests.

    After a crash the identity graph may already have lost the person, so the saved subject is
    the only complete one; values either side calls shared stay out of matching.
    """
    by_id = {s.request_id: s for s in fresh}
    merged = list(fresh)
    for old in saved:
        current = by_id.get(old.request_id)
        if current is None:
            merged.append(old)
            continue
        current.customer_ids = sorted(set(current.customer_ids) | set(old.customer_ids))
        for name in _PAIRS:
            setattr(current, name, sorted(set(getattr(current, name)) | set(getattr(old, name))))
        current.identifiers = [p for p in current.identifiers if p not in set(current.shared)]
        for name in _SETS:
            setattr(current, name, getattr(current, name) | getattr(old, name))
        if old.status == STATUS_FOUND:
            current.status = STATUS_FOUND
    return merged
