"""Identity accuracy on the generator's ground truth: pairwise P/R/F1, deterministic vs probabilistic.

`python benchmarks/bench_identity_truth.py [--people 100000] [--seed 1] [--reuse]`
Generates (cached under benchmarks/.cache/), lands, stages, builds identity inputs and resolves in each
matching mode, each stage in its own subprocess for its peak RSS (`_identity_accuracy.py`); then explains
the misses and wrong merges by ground-truth `note`. `bench_identity.py` prints the same accuracy table
with the issue's targets, plus resolution speed at 1M people and profile-building time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fmt_table  # noqa: E402
from _identity_accuracy import (  # noqa: E402
    ACCURACY_HEADERS,
    EVENTS_PER_PERSON,
    MODES,
    accuracy_rows,
    ceiling_line,
    measure_accuracy,
    prep_table,
)

from uds_pipelines.lib.identity.guardrails import GuardrailConfig  # noqa: E402
from uds_pipelines.lib.identity.sources import person_attributes_sql  # noqa: E402
from uds_pipelines.lib.masking import mask_email, mask_phone  # noqa: E402


def tag_table(con: duckdb.DuckDBPyConnection, errors: str, mode: str, limit: int = 12) -> str:
    """Error pairs per note tag carried by either record, next to how many true pairs carry that tag."""
    rows = con.execute(
        f"""
        WITH tags AS (
            SELECT DISTINCT rid_a, rid_b, trim(tag) AS tag FROM (
                SELECT rid_a, rid_b, unnest(string_split(coalesce(note_a, '') || ';' || coalesce(note_b, ''), ';')) AS tag
                FROM {errors}_{mode}) WHERE trim(tag) NOT IN ('', 'customer')
        ),
        all_pairs AS (
            SELECT DISTINCT a.rid AS rid_a, b.rid AS rid_b, trim(t.tag) AS tag
            FROM rec_{mode} a JOIN rec_{mode} b ON a.person_id = b.person_id AND (a.src, a.rid) < (b.src, b.rid),
            unnest(string_split(coalesce(a.note, '') || ';' || coalesce(b.note, ''), ';')) t(tag)
            WHERE trim(t.tag) <> ''
        )
        SELECT e.tag, count(*) AS pairs,
               (SELECT count(*) FROM all_pairs p WHERE p.tag = e.tag) AS true_pairs_with_tag
        FROM tags e GROUP BY 1 ORDER BY 2 DESC LIMIT {limit}
        """
    ).fetchall()
    total, untagged = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE coalesce(note_a, '') = '' AND coalesce(note_b, '') = '') "
        f"FROM {errors}_{mode}"
    ).fetchone()
    src = con.execute(
        f"SELECT src_a || '-' || src_b, count(*) FROM {errors}_{mode} GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    head = f"{errors.upper()} pairs: {total:,} ({untagged:,} with no note on either record); by sources: "
    head += ", ".join(f"{k} {v:,}" for k, v in src)
    return head + "\n" + fmt_table(["note tag (either record)", "error pairs", "true pairs with tag"], rows)


def shared_identifiers(con: duckdb.DuckDBPyConnection, mode: str, limit: int = 8) -> str:
    """For wrong merges: which identifier values are shared by records of different true people."""
    rows = con.execute(
        f"""
        WITH ids AS (
            SELECT r.customer_id, r.person_id, i.id_type, i.id_value
            FROM rec_{mode} r JOIN identifiers i
              ON i.source = r.src AND i.record_id = r.rid WHERE i.id_type IN ('email', 'phone')
        )
        SELECT id_type, id_value, count(DISTINCT person_id) AS people, count(DISTINCT customer_id) AS customers
        FROM ids GROUP BY 1, 2 HAVING count(DISTINCT person_id) > 1 AND count(DISTINCT customer_id) <
               count(DISTINCT person_id) ORDER BY 3 DESC LIMIT {limit}
        """
    ).fetchall()
    masked = [[t, mask_email(v) if t == "email" else mask_phone(v), p, c] for t, v, p, c in rows]
    return fmt_table(["id_type", "value (masked)", "true people", "customers"], masked)


def _junk_email_sql(col: str) -> str:
    """The guardrails' own blocked values and patterns, as a SQL predicate on `col`."""
    config = GuardrailConfig()
    values = ", ".join(f"'{v}'" for v in config.blocked_values.get("email", ()))
    patterns = [f"regexp_full_match(lower({col}), '{p}')" for p in config.blocked_patterns.get("email", ())]
    return "(" + " OR ".join([f"lower({col}) IN ({values})", *patterns]) + ")"


def fn_causes(con: duckdb.DuckDBPyConnection, mode: str) -> str:
    """Missed pairs by what the two records have in common: a shared value means a guardrail cut it."""
    con.execute(
        """
        CREATE OR REPLACE TABLE ids AS
        SELECT source AS src, record_id AS rid,
               list(id_value) FILTER (WHERE id_type = 'email') AS em, list(id_value) FILTER (WHERE id_type = 'phone') AS ph
        FROM identifiers GROUP BY ALL
        """
    )
    junk = _junk_email_sql("v")
    rows = con.execute(
        f"""
        WITH f AS (
            SELECT coalesce(a.em, []) AS ea, coalesce(a.ph, []) AS pa, coalesce(b.em, []) AS eb, coalesce(b.ph, []) AS pb
            FROM fn_{mode} f LEFT JOIN ids a ON a.src = f.src_a AND a.rid = f.rid_a
            LEFT JOIN ids b ON b.src = f.src_b AND b.rid = f.rid_b
        )
        SELECT CASE WHEN len(list_intersect(ea, eb)) > 0 OR len(list_intersect(pa, pb)) > 0
                    THEN 'share an email/phone (a guardrail cut it)'
                    WHEN len(ea) + len(pa) = 0 OR len(eb) + len(pb) = 0 THEN 'a record has no email/phone at all'
                    ELSE 'no email/phone in common' END AS cause,
               CASE WHEN len(list_filter(ea || eb, lambda v: {junk})) > 0 THEN 'yes' ELSE 'no' END AS junk,
               CASE WHEN len(pa) = 0 OR len(pb) = 0 THEN 'no' ELSE 'yes' END AS both_have_phone,
               count(*) AS pairs
        FROM f GROUP BY ALL ORDER BY pairs DESC
        """
    ).fetchall()
    return fmt_table(
        ["cause", "an email is junk (guardrail-blocked)", "both have a phone", "missed pairs"], rows
    )


def pair_attributes(con: duckdb.DuckDBPyConnection, errors: str, mode: str) -> str:
    """Error pairs by which matching attributes (as match keys) the two records agree on."""
    rows = con.execute(
        f"""
        WITH a AS (SELECT source AS src, record_id AS rid, first_name_key AS fn, last_name_key AS ln,
                          date_of_birth AS dob, postcode AS pc, address_line1 AS ad
                   FROM ({person_attributes_sql()}))
        SELECT coalesce(x.ln = y.ln, false) AS same_last_name, coalesce(x.fn = y.fn, false) AS same_first_name,
               coalesce(x.dob = y.dob, false) AS same_birth_date, coalesce(x.pc = y.pc, false) AS same_postcode,
               coalesce(x.ad = y.ad, false) AS same_address, count(*) AS pairs
        FROM {errors}_{mode} f JOIN a x ON x.src = f.src_a AND x.rid = f.rid_a
        JOIN a y ON y.src = f.src_b AND y.rid = f.rid_b
        GROUP BY ALL ORDER BY pairs DESC LIMIT 10
        """
    ).fetchall()
    return fmt_table(
        ["same last name", "same first", "same birth date", "same postcode", "same address", "pairs"], rows
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--events", type=int, default=None, help=f"Stripe events (default people x {EVENTS_PER_PERSON})"
    )
    parser.add_argument("--reuse", action="store_true", help="reuse the landed lake from the last run")
    args = parser.parse_args(argv)
    acc = measure_accuracy(args.people, args.seed, args.events, args.reuse)
    con, any_f = acc.con, next(iter(acc.found.values()))
    print(f"people={acc.people:,} events={acc.events:,} seed={acc.seed} person records={any_f['records']:,} "
          f"(of {any_f['truth_records']:,} landed in truth)")  # fmt: skip
    print(fmt_table(ACCURACY_HEADERS, accuracy_rows(acc)))
    print("\n" + ceiling_line(acc))
    print("\nPreparation stages:\n" + prep_table(acc))
    for mode in MODES:
        print(f"\n## {mode}: missed same-person pairs\n" + tag_table(con, "fn", mode))
        print("\n" + fn_causes(con, mode))
        print(f"\n## {mode}: wrongly merged pairs\n" + tag_table(con, "fp", mode))
        print(
            f"\nidentifiers shared by different people in one customer ({mode}):\n"
            + shared_identifiers(con, mode)
        )
        print("\nattributes the wrongly merged records agree on:\n" + pair_attributes(con, "fp", mode))
        if mode != "deterministic":
            print("\nattributes the missed pairs agree on:\n" + pair_attributes(con, "fn", mode))
    con.close()


if __name__ == "__main__":
    main()
