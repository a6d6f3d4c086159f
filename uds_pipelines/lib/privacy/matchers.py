"""Which rows of a table belong to the persons being erased: lookup tables plus a per-table MatchSpec."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from uds_pipelines.lib.privacy.needle_scan import NeedleScanner, lowered_sql
from uds_pipelines.lib.privacy.requests import Subject
from uds_pipelines.lib.privacy.rewrite import FILE_COL, ROW_COL, MatchSpec, quote_ident
from uds_pipelines.lib.privacy.variants import subject_needles

SEP = "\x1f"
# Column name -> which of the person's ids it holds.
EQUALITY_COLUMNS = {
    "customer_id": "cust",
    "other_customer_id": "cust",
    "customer_id_l": "cust",  # identity/match_links: both ends of a probabilistic match
    "customer_id_r": "cust",
    "merged_into": "cust",
    "customer_ref": "stripe",
    "object_id": "stripe",
    "charge_id": "stripe",
    "invoice_id": "stripe",
    "subscription_id": "stripe",
    "session_id": "stripe",
    "payment_intent_id": "stripe",
    "stripe_customer_id": "stripe",
    "response_id": "survey",
    "submission_id": "form",
    "source_record": "anyrec",
}
TEXT_TYPES = ("VARCHAR", "JSON")


def lookup_frames(subjects: list[Subject]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(`_er_eq`: kind, v, request_id) and (`_er_needle`: needle, request_id) for the subjects."""
    eq: list[tuple[str, str, str]] = []
    needles: list[tuple[str, str]] = []
    for s in subjects:
        rid = s.request_id
        stripe_customers = s.values("stripe_customer")
        eq += [("cust", v, rid) for v in set(s.customer_ids) | stripe_customers]
        eq += [("stripe", v, rid) for v in stripe_customers | s.stripe_objects]
        eq += [("survey", v, rid) for v in s.record_ids("survey")]
        eq += [("form", v, rid) for v in s.record_ids("form")]
        eq += [("anyrec", v, rid) for v in s.record_ids() | stripe_customers | s.stripe_objects]
        eq += [("rec", f"{src}{SEP}{rec}", rid) for src, rec in s.records]
        eq += [("ev" + kind, v, rid) for kind, v in s.event_ids()]
        eq += [("evany", v, rid) for _kind, v in s.event_ids()]
        shared = set(s.shared)
        eq += [("ident", f"{t}{SEP}{v}", rid) for t, v in s.identifiers + s.requested if (t, v) not in shared]
        needles += [(n, rid) for n in subject_needles(s)]
    eq_frame = pd.DataFrame(sorted(set(eq)), columns=["kind", "v", "request_id"], dtype=object)
    needle_frame = pd.DataFrame(sorted(set(needles)), columns=["needle", "request_id"], dtype=object)
    return eq_frame, needle_frame


@dataclass(frozen=True)
class Lookups:
    """The needles of the persons being erased, as one automaton (None: nothing to search)."""

    scanner: NeedleScanner | None


def register_lookups(con: duckdb.DuckDBPyConnection, subjects: list[Subject]) -> Lookups:
    """Create `_er_eq`, `_er_needle` and the function `NEEDLES_FUNCTION(text) -> VARCHAR[]` (the
    needles a text holds, NULL for none) on `con`; undone by `forget_lookups`."""
    eq_frame, needle_frame = lookup_frames(subjects)
    con.register("_er_eq_df", eq_frame)
    con.register("_er_needle_df", needle_frame)
    con.execute("CREATE OR REPLACE TEMP TABLE _er_eq AS SELECT * FROM _er_eq_df")
    con.execute("CREATE OR REPLACE TEMP TABLE _er_needle AS SELECT * FROM _er_needle_df")
    con.unregister("_er_eq_df")
    con.unregister("_er_needle_df")
    scanner = NeedleScanner(needle_frame["needle"].tolist())
    if scanner.empty:
        return Lookups(None)
    register_needles(con, scanner)
    return Lookups(scanner)


def register_needles(con: duckdb.DuckDBPyConnection, scanner: NeedleScanner) -> None:
    """The function `NEEDLES_FUNCTION(text) -> VARCHAR[]` on `con`: the needles of `scanner` that
    a text holds (lower-cased as `lowered_sql` gives it), NULL for none."""

    def needles(texts: pa.Array) -> pa.Array:
        # one call per DuckDB vector: the automaton scans the vector's whole buffer at once
        found = dict(scanner.hits(texts))
        return pa.array([sorted(found[i]) if i in found else None for i in range(len(texts))], NEEDLE_LIST)

    _remove_function(con)
    con.create_function(
        NEEDLES_FUNCTION,
        needles,
        [duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("VARCHAR[]"),
        type="arrow",
        null_handling="special",  # it returns NULL for a text without needles
    )


def forget_lookups(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what `register_lookups` created: the persons' ids and needles leave the connection."""
    for name in ("_er_eq", "_er_needle"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    _remove_function(con)


def _remove_function(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.remove_function(NEEDLES_FUNCTION)
    except Exception:  # noqa: BLE001 - not registered on this connection
        pass


NEEDLES_FUNCTION = "uds_erasure_needles"
NEEDLE_LIST = pa.list_(pa.string())


def is_text_type(type_name: str) -> bool:
    upper = type_name.upper()
    return upper in TEXT_TYPES or upper.endswith("[]") or upper.startswith(("STRUCT", "MAP", "UNION"))


def text_sql(columns: dict[str, str]) -> str | None:
    """All text-like columns of a row as one string (newline-separated), ready for the scanner."""
    parts = [f"CAST({quote_ident(name)} AS VARCHAR)" for name, typ in columns.items() if is_text_type(typ)]
    if not parts:
        return None
    return lowered_sql(f"concat_ws(chr(10), {', '.join(parts)})")


def erasure_spec(columns: dict[str, str], scanner: NeedleScanner | None) -> MatchSpec | None:
    """Rows holding any of the persons' ids in an id column, or any of the `scanner`'s needles in
    any text column (case-insensitive, on word boundaries)."""
    names = {name.lower(): name for name in columns}
    preds: list[str] = []
    extra: dict[str, str] = {}
    tags: list[str] = []

    def equality(expr: str, kind: str) -> None:
        alias = f"_prv_k{len(extra)}"
        preds.append(f"{expr} IN (SELECT v FROM _er_eq WHERE kind = '{kind}')")
        extra[alias] = expr
        tags.append(
            f"SELECT m.{FILE_COL}, m.{ROW_COL}, e.request_id FROM _prv_m m "
            f"JOIN _er_eq e ON e.kind = '{kind}' AND e.v = m.{alias}"
        )

    for lower, kind in EQUALITY_COLUMNS.items():
        if lower in names:
            equality(f"CAST({quote_ident(names[lower])} AS VARCHAR)", kind)
    if "record_id" in names:
        record = f"CAST({quote_ident(names['record_id'])} AS VARCHAR)"
        if "source" in names:
            equality(f"(CAST({quote_ident(names['source'])} AS VARCHAR) || chr(31) || {record})", "rec")
        else:
            equality(record, "anyrec")
    if "user_id" in names and "anonymous_id" in names:  # behavioural events
        user = f"CAST({quote_ident(names['user_id'])} AS VARCHAR)"
        equality(user, "evuser")
        # an anonymous id only decides events without a user: another user's events on a device
        # the person also used are that user's
        anonymous = f"CAST({quote_ident(names['anonymous_id'])} AS VARCHAR)"
        equality(f"CASE WHEN {user} IS NULL THEN {anonymous} END", "evanon")
    if "previous_id" in names:  # an alias names the person's earlier id
        equality(f"CAST({quote_ident(names['previous_id'])} AS VARCHAR)", "evany")
    if "id_type" in names and "id_value" in names:
        equality(
            f"(CAST({quote_ident(names['id_type'])} AS VARCHAR) || chr(31) || "
            f"CAST({quote_ident(names['id_value'])} AS VARCHAR))",
            "ident",
        )
    text = text_sql(columns)
    if text and scanner is not None:
        # the function of `register_lookups`: evaluated on every row for the predicate, and again
        # only for the (few) matched rows to attribute them
        found = f"{NEEDLES_FUNCTION}({text})"
        preds.append(f"{found} IS NOT NULL")
        extra["_prv_needles"] = found
        tags.append(
            f"SELECT m.{FILE_COL}, m.{ROW_COL}, n.request_id FROM "
            f"(SELECT {FILE_COL}, {ROW_COL}, unnest(_prv_needles) AS needle FROM _prv_m) m "
            "JOIN _er_needle n USING (needle)"
        )
    if not preds:
        return None
    return MatchSpec(
        predicate=" OR ".join(f"coalesce({p}, false)" for p in preds),
        extra=extra,
        tag_queries=tags,
    )
