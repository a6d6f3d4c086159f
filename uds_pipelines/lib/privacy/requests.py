"""Resolve data-subject requests to whole persons through the identity graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from uds_pipelines.lib.normalize import normalize_email, normalize_phone

STATUS_FOUND = "found"
STATUS_NOTHING = "nothing_found"
STATUS_INVALID = "invalid"
SUBJECT_COLUMNS = [
    "request_id",
    "type",
    "received_at",
    "status",
    "customer_id",
    "customer_ids",
    "identifiers",
    "records",
    "requested",
    "shared",
]


@dataclass
class Subject:
    """One request resolved to a person: everything needed to find their rows, held in memory only.

    `identifiers` are normalized (id_type, id_value) pairs of the whole person; `shared` lists values
    the person shares with other people (kept out of text matching so nobody else is erased);
    `raw_values` (spellings found in the lake) and `stripe_objects` (ids of the person's charges,
    invoices, ...) are filled by `variants.collect_raw_values`.
    """

    request_id: str
    type: str = "erasure"
    received_at: Any = None
    status: str = STATUS_FOUND
    customer_ids: list[str] = field(default_factory=list)
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    records: list[tuple[str, str]] = field(default_factory=list)
    requested: list[tuple[str, str]] = field(default_factory=list)
    shared: list[tuple[str, str]] = field(default_factory=list)
    raw_values: set[str] = field(default_factory=set)
    stripe_objects: set[str] = field(default_factory=set)

    @property
    def customer_id(self) -> str | None:
        return self.customer_ids[0] if self.customer_ids else None

    def values(self, id_type: str) -> set[str]:
        return {v for t, v in self.identifiers + self.requested if t == id_type and v}

    def record_ids(self, source: str | None = None) -> set[str]:
        return {r for s, r in self.records if source is None or s == source}

    def event_ids(self, kind: str | None = None) -> set[tuple[str, str]]:
        """(`user` | `anon`, id) of the person's behavioural event records (`events`, `user:<userId>`)."""
        pairs = {tuple(r.split(":", 1)) for s, r in self.records if s == "events" and ":" in r}
        return {(k, v) for k, v in pairs if v and k in ("user", "anon") and kind in (None, k)}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Subject:
        def pairs(value: Any) -> list[tuple[str, str]]:
            return [(str(a), str(b)) for a, b in (value if value is not None else [])]

        return cls(
            request_id=str(row["request_id"]),
            type=str(row.get("type") or "erasure"),
            received_at=row.get("received_at"),
            status=str(row.get("status") or STATUS_FOUND),
            customer_ids=[
                str(c) for c in (row.get("customer_ids") if row.get("customer_ids") is not None else [])
            ],
            identifiers=pairs(row.get("identifiers")),
            records=pairs(row.get("records")),
            requested=pairs(row.get("requested")),
            shared=pairs(row.get("shared")),
        )


def subjects_from_frame(frame: pd.DataFrame | list[Subject]) -> list[Subject]:
    if isinstance(frame, list):
        return frame
    return [Subject.from_row(row) for row in frame.to_dict("records")]


def requested_identifiers(row: dict[str, Any], default_region: str = "US") -> list[tuple[str, str]]:
    """The normalized identifiers a request names; invalid values are left out."""
    out: list[tuple[str, str]] = []
    email = row.get("email")
    if isinstance(email, str) and email.strip():
        key = normalize_email(email).match_key
        if key:
            out.append(("email", key))
    phone = row.get("phone")
    if isinstance(phone, str) and phone.strip():
        e164 = normalize_phone(phone, None, default_region).e164
        if e164:
            out.append(("phone", e164))
    customer = row.get("customer_id")
    if isinstance(customer, str) and customer.strip():
        value = customer.strip()
        out.append(("stripe_customer" if value.startswith("cus_") else "customer_id", value))
    return out


def resolve_subjects(
    con: duckdb.DuckDBPyConnection,
    requests_df: pd.DataFrame,
    identifiers_table: str,
    identity_map_table: str,
    default_region: str = "US",
) -> pd.DataFrame:
    """One row per request (SUBJECT_COLUMNS); the tables are relations on `con` (the `identifiers`
    and `identity_map` views, or any relation with their columns).

    A request naming one identifier resolves to every record of every person holding it, and to
    all identifiers of those records. Requests naming nothing usable get status `invalid`, requests
    matching no record `nothing_found` (their named identifiers are still returned for suppression).
    """
    asked: list[dict[str, str]] = []
    base: dict[str, dict[str, Any]] = {}
    for row in requests_df.to_dict("records"):
        rid = str(row["request_id"])
        named = requested_identifiers(row, default_region)
        base[rid] = {
            "request_id": rid,
            "type": row.get("type"),
            "received_at": row.get("received_at"),
            "requested": named,
        }
        asked.extend({"request_id": rid, "id_type": t, "id_value": v} for t, v in named)
    asked_frame = pd.DataFrame(asked, columns=["request_id", "id_type", "id_value"], dtype=object)
    con.register("_prv_asked", asked_frame)
    try:
        found = _resolve_sql(con, identifiers_table, identity_map_table)
    finally:
        con.unregister("_prv_asked")
    rows = []
    for rid, info in base.items():
        hit = found.get(rid, {})
        records = sorted(hit.get("records", set()))
        customers = sorted(hit.get("customers", set()))
        shared = sorted(hit.get("shared", set()) - set(info["requested"]))
        identifiers = sorted(
            (hit.get("identifiers", set()) - set(shared)) | {("customer_id", c) for c in customers}
        )
        status = (
            STATUS_INVALID
            if not info["requested"]
            else STATUS_FOUND
            if records or customers
            else STATUS_NOTHING
        )
        rows.append(
            {
                **info,
                "status": status,
                "customer_id": customers[0] if customers else None,
                "customer_ids": customers,
                "identifiers": identifiers,
                "records": records,
                "shared": shared,
            }
        )
    return pd.DataFrame(rows, columns=SUBJECT_COLUMNS)


def _resolve_sql(
    con: duckdb.DuckDBPyConnection, identifiers: str, identity_map: str
) -> dict[str, dict[str, set]]:
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _prv_hit AS
        SELECT DISTINCT q.request_id, CAST(i.source AS VARCHAR) AS source, CAST(i.record_id AS VARCHAR) AS record_id
        FROM _prv_asked q JOIN {identifiers} AS i
          ON CAST(i.id_type AS VARCHAR) = q.id_type AND CAST(i.id_value AS VARCHAR) = q.id_value
        UNION
        SELECT q.request_id, CAST(m.source AS VARCHAR), CAST(m.record_id AS VARCHAR)
        FROM _prv_asked q JOIN {identity_map} AS m
          ON q.id_type = 'customer_id' AND CAST(m.customer_id AS VARCHAR) = q.id_value
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _prv_cust AS
        SELECT DISTINCT h.request_id, CAST(m.customer_id AS VARCHAR) AS customer_id
        FROM _prv_hit h JOIN {identity_map} AS m
          ON CAST(m.source AS VARCHAR) = h.source AND CAST(m.record_id AS VARCHAR) = h.record_id
        WHERE m.customer_id IS NOT NULL
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _prv_rec AS
        SELECT DISTINCT c.request_id, CAST(m.source AS VARCHAR) AS source, CAST(m.record_id AS VARCHAR) AS record_id
        FROM _prv_cust c JOIN {identity_map} AS m ON CAST(m.customer_id AS VARCHAR) = c.customer_id
        UNION SELECT request_id, source, record_id FROM _prv_hit
        """
    )
    # A value also held by records outside the person (a shared family phone, a blocked value) is
    # "shared": matching it in text would erase other people too.
    ident = con.execute(
        f"""
        WITH ids AS (
            SELECT CAST(source AS VARCHAR) AS source, CAST(record_id AS VARCHAR) AS record_id,
                   CAST(id_type AS VARCHAR) AS id_type, CAST(id_value AS VARCHAR) AS id_value
            FROM {identifiers} AS i WHERE id_value IS NOT NULL
        ), mine AS (
            SELECT DISTINCT r.request_id, i.id_type, i.id_value FROM _prv_rec r JOIN ids i USING (source, record_id)
        ), others AS (
            SELECT DISTINCT m.request_id, m.id_type, m.id_value
            FROM mine m JOIN ids o ON o.id_type = m.id_type AND o.id_value = m.id_value
            LEFT JOIN _prv_rec x ON x.request_id = m.request_id AND x.source = o.source AND x.record_id = o.record_id
            WHERE x.record_id IS NULL
        )
        SELECT m.request_id, m.id_type, m.id_value, o.request_id IS NOT NULL AS shared
        FROM mine m LEFT JOIN others o USING (request_id, id_type, id_value)
        """
    ).fetchall()
    out: dict[str, dict[str, set]] = {}

    def slot(rid: str) -> dict[str, set]:
        return out.setdefault(
            rid, {"records": set(), "customers": set(), "identifiers": set(), "shared": set()}
        )

    for rid, source, record in con.execute("SELECT request_id, source, record_id FROM _prv_rec").fetchall():
        slot(rid)["records"].add((source, record))
    for rid, customer in con.execute("SELECT request_id, customer_id FROM _prv_cust").fetchall():
        slot(rid)["customers"].add(customer)
    for rid, id_type, id_value, shared in ident:
        slot(rid)["shared" if shared else "identifiers"].add((id_type, id_value))
    for name in ("_prv_hit", "_prv_cust", "_prv_rec"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return out
