"""Which rows of a table belong to the persons being erased: lookup tables plus a per-table MatchSpec."""

from __future__ import annotations

import duckdb
import pandas as pd

from uds_pipelines.lib.privacy.needles import matches_sql, needle_pattern, split_pattern, sql_string
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
        shared = set(s.shared)
        eq += [("ident", f"{t}{SEP}{v}", rid) for t, v in s.identifiers + s.requested if (t, v) not in shared]
        needles += [(n, rid) for n in subject_needles(s)]
    eq_frame = pd.DataFrame(sorted(set(eq)), columns=["kind", "v", "request_id"], dtype=object)
    needle_frame = pd.DataFrame(sorted(set(needles)), columns=["needle", "request_id"], dtype=object)
    return eq_frame, needle_frame


def register_lookups(con: duckdb.DuckDBPyConnection, subjects: list[Subject]) -> str | None:
    """Create `_er_eq` and `_er_needle` on `con`; returns the needle pattern (None if no needles)."""
    eq_frame, needle_frame = lookup_frames(subjects)
    con.register("_er_eq_df", eq_frame)
    con.register("_er_needle_df", needle_frame)
    con.execute("CREATE OR REPLACE TEMP TABLE _er_eq AS SELECT * FROM _er_eq_df")
    con.execute("CREATE OR REPLACE TEMP TABLE _er_needle AS SELECT * FROM _er_needle_df")
    con.unregister("_er_eq_df")
    con.unregister("_er_needle_df")
    return needle_pattern(needle_frame["needle"].tolist())


def is_text_type(type_name: str) -> bool:
    upper = type_name.upper()
    return upper in TEXT_TYPES or upper.endswith("[]") or upper.startswith(("STRUCT", "MAP", "UNION"))


def text_sql(columns: dict[str, str]) -> str | None:
    """All text-like columns of a row as one lower-cased string (newline-separated)."""
    parts = [f"CAST({quote_ident(name)} AS VARCHAR)" for name, typ in columns.items() if is_text_type(typ)]
    if not parts:
        return None
    return f"lower(concat_ws(chr(10), {', '.join(parts)}))"


def erasure_spec(columns: dict[str, str], pattern: str | None) -> MatchSpec | None:
    """Rows holding any of the persons' ids in an id column, or any needle in any text column."""
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
    if "id_type" in names and "id_value" in names:
        equality(
            f"(CAST({quote_ident(names['id_type'])} AS VARCHAR) || chr(31) || "
            f"CAST({quote_ident(names['id_value'])} AS VARCHAR))",
            "ident",
        )
    text = text_sql(columns)
    if text and pattern:
        preds.append(matches_sql(text, pattern))
        # Only evaluated for the (few) matched rows; in the same DFA-sized parts as the predicate
        # (one alternation of thousands of people's needles is past what RE2 compiles).
        found = [f"regexp_extract_all({text}, {sql_string(p)}, 1)" for p in split_pattern(pattern)]
        extra["_prv_needles"] = found[0] if len(found) == 1 else f"flatten([{', '.join(found)}])"
        tags.append(
            f"SELECT m.{FILE_COL}, m.{ROW_COL}, n.request_id FROM "
            f"(SELECT {FILE_COL}, {ROW_COL}, unnest(_prv_needles) AS needle FROM _prv_m) m "
            "JOIN _er_needle n USING (needle)"
        )
    if not preds:
        return None
    return MatchSpec(
        predicate=" OR ".join(f"coalesce({p}, false)" for p in preds), extra=extra, tag_queries=tags
    )
