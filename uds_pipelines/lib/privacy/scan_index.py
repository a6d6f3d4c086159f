"""The verification scan as a hash join: one tokenizing pass over the text, whatever the number of needles.

A regex alternation with one branch per needle outgrows RE2's DFA cache and has to be run in parts,
one pass over the data per part, so its cost grows with the number of erased people. Here each
text value is cut once into tokens, the tokens are joined against an anchor per needle, and only
the (few) rows whose anchor occurs are checked exactly with that one needle's bounded pattern.

Why this finds everything the alternation finds: a bounded match of a needle (see `needles._LEFT`
and `_RIGHT`) has on both sides a character outside [a-z0-9], so every maximal [a-z0-9] run of the
needle is a maximal run of the text too; and since `@` is outside `_LEFT`'s class, the run of
local-part characters before the needle's first `@` is exactly the run the text has before that
`@`. A needle whose anchor occurs is then checked with its own pattern, so nothing is found that
the alternation would not find either. Needles with no usable anchor go to a (short) alternation.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import duckdb
import pandas as pd

from uds_pipelines.lib.privacy.needles import matches_sql, needle_pattern, sql_string

# Runs shorter than this are not extracted: most of any text is short words and numbers, and a
# needle of at least MIN_NEEDLE_CHARS nearly always has a run this long or an e-mail local part.
MIN_RUN = 4
# Characters of `needles._LEFT`'s class: the run of them before `@` is an e-mail's local part.
LOCAL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789._%+'-"
# An anchor shared by more needles than this (say "com") would pair too many rows with too many
# needles: such needles are scanned by the alternation instead.
MAX_SHARED_ANCHOR = 64
# Tokens that most texts carry whatever the person: never chosen while a needle has another run.
COMMON_RUNS = frozenset(
    {"com", "org", "net", "www", "http", "https", "mail", "gmail", "yahoo", "hotmail", "outlook", "example"}
)
_RUN_RE = re.compile(r"[a-z0-9]+")
_LOCAL_RE = re.compile(r"[a-z0-9._%+'-]+$")


@dataclass(frozen=True)
class NeedleIndex:
    """Needles by anchor (registered as `_vf_anchor` on the connection) plus those without one."""

    table: str
    rest_pattern: str | None


def anchors(needle: str) -> list[str]:
    """Tokens of `needle` that the text must hold whenever the needle occurs bounded in it.

    An e-mail local part is marked with a trailing `@` so it never equals a run token."""
    out: list[str] = []
    if "@" in needle:
        local = _LOCAL_RE.search(needle.split("@", 1)[0])
        if local:
            out.append(local.group(0) + "@")
    out += [run for run in _RUN_RE.findall(needle) if len(run) >= MIN_RUN]
    return out


def _choose(options: list[str], shared: Counter[str]) -> str:
    # Local parts first (they name one person), then the run the fewest needles share, longest.
    return min(options, key=lambda t: (not t.endswith("@"), t in COMMON_RUNS, shared[t], -len(t), t))


def build_index(con: duckdb.DuckDBPyConnection, needles: list[str], name: str = "_vf_anchor") -> NeedleIndex:
    """Register the anchor table `name` (anchor, needle, pattern) for `needles` (lower-cased)."""
    options = {n: sorted(set(anchors(n))) for n in set(needles)}
    shared = Counter(t for opts in options.values() for t in opts)
    rows, rest = [], []
    for needle, opts in sorted(options.items()):
        anchor = _choose(opts, shared) if opts else None
        if anchor is None or shared[anchor] > MAX_SHARED_ANCHOR:
            rest.append(needle)
        else:
            rows.append((anchor, needle, needle_pattern([needle])))
    frame = pd.DataFrame(rows, columns=["anchor", "needle", "pattern"], dtype=object)
    con.register(f"{name}_df", frame)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_df")
    finally:
        con.unregister(f"{name}_df")
    return NeedleIndex(name, needle_pattern(rest))


def tokens_sql(text: str) -> str:
    """Lower-cased tokens of `text`: local parts before each `@` (marked `x@`) and [a-z0-9] runs.

    ASCII text is cut as it is (lowering whole texts costs more than the scan); other text is
    lowered first, as the alternation scan did, since lowering can turn a non-ASCII letter into an
    ASCII one. A value is ASCII exactly when its byte length equals its character length."""
    base = f"(CASE WHEN strlen({text}) = length({text}) THEN {text} ELSE lower({text}) END)"
    local_chars = sql_string(LOCAL_CHARS + LOCAL_CHARS[:26].upper())
    locals_sql = (
        f"list_transform(string_split({base}, '@')[:-2], "
        f"lambda p: lower(p[length(rtrim(p, {local_chars})) + 1:]) || '@')"
    )
    runs_sql = f"list_transform(regexp_extract_all({base}, '[0-9A-Za-z]{{{MIN_RUN},}}'), lambda r: lower(r))"
    return f"(CASE WHEN contains({text}, '@') THEN list_concat({locals_sql}, {runs_sql}) ELSE {runs_sql} END)"


def hits_sql(index: NeedleIndex, relation: str, columns: list[str]) -> str:
    """SQL giving (_vf_col, _vf_row, _vf_text, needle) for values of `columns` holding an anchor
    and, literally, its needle; needle NULL for values the alternation of `rest_pattern` matched.

    `columns` are SQL expressions, scanned as lower-cased VARCHAR like the alternation did. One
    pass: every value is tokenized once and hash-joined with the anchors."""
    values = ", ".join(f"CAST({c} AS VARCHAR) AS _c{i}" for i, c in enumerate(columns))
    # Materialized once: the row numbers must be the same for the join and the alternation below.
    unpivoted = (
        f"WITH _vf_u AS MATERIALIZED (UNPIVOT (SELECT row_number() OVER () AS _vf_row, {values} "
        f"FROM {relation}) ON COLUMNS(* EXCLUDE (_vf_row)) INTO NAME _vf_col VALUE _vf_text) "
    )
    joined = (
        f"SELECT t._vf_col, t._vf_row, t._vf_text, a.needle FROM (SELECT _vf_col, _vf_row, _vf_text, "
        f"unnest({tokens_sql('_vf_text')}) AS _vf_token FROM _vf_u) t "
        f"JOIN {index.table} a ON a.anchor = t._vf_token WHERE contains(lower(t._vf_text), a.needle)"
    )
    if index.rest_pattern:
        joined += (
            " UNION ALL SELECT _vf_col, _vf_row, _vf_text, NULL FROM _vf_u "
            f"WHERE {matches_sql('lower(_vf_text)', index.rest_pattern)}"
        )
    return unpivoted + joined


def count_rows(
    con: duckdb.DuckDBPyConnection, index: NeedleIndex, relation: str, columns: list[str]
) -> list[int]:
    """Rows of `relation` with a needle (bounded), per column of `columns` (in their order)."""
    if not columns:
        return []
    con.execute(f"CREATE OR REPLACE TEMP TABLE _vf_hits AS {hits_sql(index, relation, columns)}")
    try:
        # Literal hits are checked for word boundaries with one constant pattern of just the needles
        # that hit (usually none after an erasure): a pattern per row would be compiled per row.
        hit = [
            r[0]
            for r in con.execute("SELECT DISTINCT needle FROM _vf_hits WHERE needle IS NOT NULL").fetchall()
        ]
        pattern = needle_pattern(hit)
        bounded = matches_sql("lower(_vf_text)", pattern) if pattern else "false"
        found = dict(
            con.execute(
                f"SELECT _vf_col, count(DISTINCT _vf_row) FROM _vf_hits "
                f"WHERE needle IS NULL OR {bounded} GROUP BY _vf_col"
            ).fetchall()
        )
    finally:
        con.execute("DROP TABLE IF EXISTS _vf_hits")
    return [int(found.get(f"_c{i}", 0)) for i in range(len(columns))]
