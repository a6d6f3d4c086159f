"""Suppression list: keyed hashes of erased identifiers, and dropping their records at landing."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from uds_pipelines.lib import catalog, lake_views
from uds_pipelines.lib.normalize import normalize_email, normalize_phone
from uds_pipelines.lib.privacy.requests import Subject, subjects_from_frame
from uds_pipelines.lib.privacy.tables import fresh_views, read_table
from uds_pipelines.lib.privacy.variants import candidate_strings
from uds_pipelines.lib.quarantine import QuarantineRecord

SUPPRESSION = "suppression"  # the catalog table (and its view)
# The temp table of (id_type, id_hash) pairs landing SQL screens against (`suppressed_sql`).
SUPPRESSION_TABLE = "_uds_suppression"
_HMAC_PADS = "_uds_hmac_pads"  # the key's padded forms, for `uds_hmac`
# A person's behavioural event ids (identity map records `events`/`user:<id>` and `anon:<id>`).
EVENT_USER, EVENT_ANONYMOUS = "event_user", "event_anonymous"
EVENT_ID_TYPES = {"user": EVENT_USER, "anon": EVENT_ANONYMOUS}
SUPPRESSED_ID_TYPES = (
    EVENT_USER,
    EVENT_ANONYMOUS,
    "email",
    "phone",
    "stripe_customer",
    "customer_id",
    "survey_response",
    "form_submission",
    "external_id",
)
# Landed column -> the id type its values are hashed as (after normalization for email/phone).
ID_COLUMNS = {
    "email": "email",
    "respondent_email": "email",
    "customer_email": "email",
    "phone": "phone",
    "customer_ref": "stripe_customer",
    "response_id": "survey_response",
    "submission_id": "form_submission",
    "external_id": "external_id",  # an app's user id on a survey response or form submission
}
TEXT_COLUMNS = ("payload", "fields_json", "answer", "raw")


def suppression_hash(value: str, key: bytes) -> str:
    """HMAC-SHA256 hex of a normalized identifier (email match key, E.164 phone, or an id)."""
    return _memo_hash(key, value)


@lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    # The key's padded inner and outer hashes, computed once: copying them is half the cost of a
    # fresh HMAC per value.
    return hmac.new(key, digestmod=hashlib.sha256)


# Stages check the same people's identifiers several times a run (audience plan, members, export
# check), each a Python call per value: each value is hashed once per process (bounded).
@lru_cache(maxsize=1 << 21)
def _memo_hash(key: bytes, value: str) -> str:
    digest = _keyed(key).copy()
    digest.update(value.encode("utf-8"))
    return digest.hexdigest()


def suppression_hashes(subjects: pd.DataFrame | list[Subject], key: bytes) -> pd.DataFrame:
    """(id_type, id_hash, request_id) for every unshared identifier of the subjects; no plain values."""
    rows = []
    for s in subjects_from_frame(subjects):
        shared = set(s.shared)
        pairs = {
            (t, v)
            for t, v in s.identifiers + s.requested
            if t in SUPPRESSED_ID_TYPES and (t, v) not in shared
        }
        pairs |= {("customer_id", c) for c in s.customer_ids}
        pairs |= {(EVENT_ID_TYPES[kind], v) for kind, v in s.event_ids()}
        rows += [
            {"id_type": t, "id_hash": suppression_hash(v, key), "request_id": s.request_id}
            for t, v in sorted(pairs)
        ]
    return pd.DataFrame(rows, columns=["id_type", "id_hash", "request_id"], dtype=object)


def load_suppression(lake_dir: Path, con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    return read_table(lake_dir, SUPPRESSION, con).to_pandas()


def add_to_suppression(
    lake_dir: Path,
    hashes: pd.DataFrame,
    added_at: datetime | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> int:
    """Append new (id_type, id_hash) pairs to the suppression table; returns how many were new."""
    current = load_suppression(lake_dir, con)
    known = set(zip(current["id_type"], current["id_hash"], strict=True))
    fresh = hashes[[(t, h) not in known for t, h in zip(hashes["id_type"], hashes["id_hash"], strict=True)]]
    fresh = fresh.drop_duplicates(["id_type", "id_hash"])
    if fresh.empty:
        return 0
    fresh = fresh.assign(added_at=pd.Timestamp(added_at or datetime.now(UTC)).tz_convert("UTC"))
    combined = pd.concat([current, fresh], ignore_index=True) if len(current) else fresh
    lake_views.write_arrow(lake_dir, SUPPRESSION, combined[list(catalog.table(SUPPRESSION).columns)], con=con)
    return len(fresh)


def suppressed_set(lake_dir: Path) -> set[tuple[str, str]]:
    frame = load_suppression(lake_dir)
    return set(zip(frame["id_type"], frame["id_hash"], strict=True))


def register_suppression(con: duckdb.DuckDBPyConnection, key: bytes, lake_dir: Path) -> str:
    """Create temp table `_uds_suppression(id_type, id_hash)` and the macro `uds_hmac(VARCHAR) -> VARCHAR`.

    Landing SQL can then drop records with `suppressed_sql("email", "uds_email_key(email)")`.
    """
    fresh_views(con, lake_dir, SUPPRESSION)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {SUPPRESSION_TABLE} AS SELECT DISTINCT id_type, id_hash FROM {SUPPRESSION}"
    )
    _register_hmac(con, key)
    return SUPPRESSION_TABLE


def _register_hmac(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """`uds_hmac(v)`: HMAC-SHA256 hex of `v` (UTF-8) under `key`, as `suppression_hash`, computed by
    DuckDB (RFC 2104 over its `sha256`): on every core and without a Python call per value, which
    cost seconds per million profiles each time a stage listed the suppressed customers. The padded
    keys are bound as parameters into a temp table, never written into SQL text."""
    padded = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    inner, outer = bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_HMAC_PADS} AS SELECT $1::BLOB AS inner_pad, $2::BLOB AS outer_pad",
        [inner, outer],
    )
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO uds_hmac(v) AS sha256((SELECT outer_pad FROM {_HMAC_PADS}) "
        f"|| unhex(sha256((SELECT inner_pad FROM {_HMAC_PADS}) || encode(v))))"
    )


def suppressed_sql(id_type: str, value_sql: str) -> str:
    """SQL predicate: the normalized value `value_sql` of type `id_type` is on the suppression list."""
    return f"coalesce(uds_hmac({value_sql}) IN (SELECT id_hash FROM {SUPPRESSION_TABLE} WHERE id_type = '{id_type}'), false)"


def _row_keys(row: dict, default_region: str) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    country = row.get("country") if isinstance(row.get("country"), str) else None
    for column, id_type in ID_COLUMNS.items():
        value = row.get(column)
        if not isinstance(value, str) or not value.strip():
            continue
        if id_type == "email":
            value = normalize_email(value).match_key
        elif id_type == "phone":
            value = normalize_phone(value, country, default_region).e164
        else:
            value = value.strip()  # ids are opaque; identifiers store them trimmed
        if value:
            keys.append((id_type, value))
    ident, ident_type = row.get("identifier"), row.get("identifier_type")
    if isinstance(ident, str) and ident_type in ("email", "phone", "stripe_customer", "customer_id"):
        norm = normalize_email(ident).match_key if ident_type == "email" else ident
        norm = normalize_phone(ident, country, default_region).e164 if ident_type == "phone" else norm
        if norm:
            keys.append((ident_type, norm))
    for column in TEXT_COLUMNS:
        for found in candidate_strings(row.get(column) if isinstance(row.get(column), str) else None):
            email_key = normalize_email(found).match_key if "@" in found else None
            phone = None if email_key else normalize_phone(found, country, default_region).e164
            if email_key or phone:
                keys.append(("email", email_key) if email_key else ("phone", phone))
    return keys


def filter_suppressed(
    data: pd.DataFrame | pa.Table | duckdb.DuckDBPyRelation,
    *,
    key: bytes,
    lake_dir: Path | None = None,
    suppressed: set[tuple[str, str]] | None = None,
    source: str,
    source_file: str = "",
    default_region: str = "US",
) -> tuple[pd.DataFrame, list[QuarantineRecord]]:
    """Rows of `data` whose identifiers are not suppressed, and one quarantine record per dropped row.

    Identifiers are read from id columns (ID_COLUMNS, consent `identifier`) and from emails/phones
    inside text columns (payload, fields_json, answer, raw). Dropped rows are quarantined with
    reason `suppressed` and no raw content. Do not filter privacy requests: a suppressed person may
    still send requests.
    """
    frame = data.df() if isinstance(data, duckdb.DuckDBPyRelation) else data
    frame = frame.to_pandas() if isinstance(frame, pa.Table) else frame
    hashes = suppressed if suppressed is not None else suppressed_set(lake_dir) if lake_dir else set()
    if not hashes or frame.empty:
        return frame, []
    cache: dict[tuple[str, str], bool] = {}
    drop: list[bool] = []
    for row in frame.to_dict("records"):
        hit = False
        for pair in _row_keys(row, default_region):
            if pair not in cache:
                cache[pair] = (pair[0], suppression_hash(pair[1], key)) in hashes
            if cache[pair]:
                hit = True
                break
        drop.append(hit)
    mask = pd.Series(drop, index=frame.index)
    dropped = frame[mask]
    positions = (
        dropped["position"].tolist() if "position" in dropped else [i + 1 for i, d in enumerate(drop) if d]
    )
    files = dropped["source_file"].tolist() if "source_file" in dropped else [source_file] * len(dropped)
    records = [
        QuarantineRecord(source, str(f or source_file), int(p), "suppressed", None)
        for f, p in zip(files, positions, strict=True)
    ]
    return frame[~mask].reset_index(drop=True), records
