"""Identity accuracy on the generator's ground truth: pairwise P/R/F1, deterministic vs probabilistic.

`python benchmarks/bench_identity_truth.py [--people 100000] [--seed 1] [--reuse]`
Generates (cached under benchmarks/.cache/), lands, stages, builds identity inputs and resolves twice,
each stage in its own subprocess for its peak RSS; then explains the misses by ground-truth `note`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ensure_generated, fmt_table, link_tree, run_measured  # noqa: E402

from uds_pipelines.lib.identity.graph import component_labels, query_arrow  # noqa: E402
from uds_pipelines.lib.identity.guardrails import GuardrailConfig, blocked_rule_sql  # noqa: E402
from uds_pipelines.lib.identity.inputs import attributes_sql, resolution_connection  # noqa: E402
from uds_pipelines.lib.masking import mask_email, mask_phone  # noqa: E402

STAGES_PY = Path(__file__).resolve().parent / "_stages.py"
PREP = ["land_stripe", "land_files", "staging", "identity_inputs"]
MODES = {
    "deterministic": "identity",
    "probabilistic": "identity_probabilistic",
    # Splink re-estimating u (random sampling) and m (EM) instead of the fixed values.
    "probabilistic_trained": "identity_probabilistic_trained",
}
EVENTS_PER_PERSON = 10

# Landed person records with their true person; surveys and forms are matched on file + position
# because Google Forms and HubSpot rows carry no id of their own in the truth.
TRUTH_SQL = """
CREATE OR REPLACE TABLE truth AS
WITH t AS (
    SELECT *, regexp_extract(file, '[^/]+$') AS fname FROM read_parquet('{gt}/records.parquet')
    WHERE expected = 'land' AND source IN ('stripe_customer', 'survey_response', 'form_submission')
)
SELECT 'stripe' AS src, record_id AS rid, person_id, note FROM t WHERE source = 'stripe_customer'
UNION ALL
SELECT 'survey', r.response_id, t.person_id, t.note FROM t
JOIN read_parquet('{lake}/landed/surveys/responses/*.parquet') r ON r.source_file = t.fname AND r.position = t.position
WHERE t.source = 'survey_response'
UNION ALL
SELECT 'form', f.submission_id, t.person_id, t.note FROM t
JOIN read_parquet('{lake}/landed/forms/*.parquet') f ON f.source_file = t.fname AND f.position = t.position
WHERE t.source = 'form_submission'
"""

PAIRS_SQL = """
WITH j AS (SELECT person_id, customer_id FROM truth JOIN {map} m ON m.source = truth.src AND m.record_id = truth.rid),
pred AS (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM j GROUP BY customer_id)),
tru AS (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM j GROUP BY person_id)),
agree AS (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM j GROUP BY customer_id, person_id))
SELECT (SELECT * FROM pred), (SELECT * FROM tru), (SELECT * FROM agree), (SELECT count(*) FROM j),
       (SELECT count(*) FROM truth)
"""

# Every true pair (same person) and every predicted pair (same customer) with both records' notes.
ERRORS_SQL = """
CREATE OR REPLACE TABLE rec_{mode} AS
SELECT t.*, m.customer_id FROM truth t JOIN {map} m ON m.source = t.src AND m.record_id = t.rid;
CREATE OR REPLACE TABLE fn_{mode} AS
SELECT a.src AS src_a, b.src AS src_b, a.rid AS rid_a, b.rid AS rid_b, a.note AS note_a, b.note AS note_b
FROM rec_{mode} a JOIN rec_{mode} b ON a.person_id = b.person_id AND (a.src, a.rid) < (b.src, b.rid)
WHERE a.customer_id <> b.customer_id;
CREATE OR REPLACE TABLE fp_{mode} AS
SELECT a.src AS src_a, b.src AS src_b, a.rid AS rid_a, b.rid AS rid_b, a.note AS note_a, b.note AS note_b
FROM rec_{mode} a JOIN rec_{mode} b ON a.customer_id = b.customer_id AND (a.src, a.rid) < (b.src, b.rid)
WHERE a.person_id <> b.person_id;
"""


def prepare(events: int, people: int, seed: int, reuse: bool) -> tuple[Path, Path, dict]:
    gen_dir, gen_meta = ensure_generated(
        events, people if people * EVENTS_PER_PERSON != events else None, seed
    )
    data_dir = gen_dir.parent / "identity_truth"
    measures: dict = {"generate": gen_meta}
    if reuse and (data_dir / "lake" / "identity" / "identifiers.parquet").exists():
        return gen_dir, data_dir, measures
    shutil.rmtree(data_dir, ignore_errors=True)
    for source in ("stripe", "surveys", "forms"):
        link_tree(gen_dir / "inbox" / source, data_dir / "inbox" / source)
    for stage in PREP:
        m = run_measured([sys.executable, str(STAGES_PY), stage, str(data_dir), str(gen_dir)])
        if m.returncode != 0:
            raise SystemExit(f"{stage} failed:\n{m.result.get('error')}")
        measures[stage] = m.as_dict()
    return gen_dir, data_dir, measures


def metrics(con: duckdb.DuckDBPyConnection, map_sql: str) -> dict[str, float]:
    pred, truth, agree, matched, total = (
        int(v or 0) for v in con.execute(PAIRS_SQL.format(map=map_sql)).fetchone()
    )
    p = agree / pred if pred else 1.0
    r = agree / truth if truth else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "true_pairs": truth, "predicted_pairs": pred, "records": matched, "truth_records": total}  # fmt: skip


def identifier_ceiling(con: duckdb.DuckDBPyConnection, lake: Path) -> dict[str, int]:
    """The most any identifier-only resolver can link: true pairs joined by usable shared identifiers.

    An oracle graph whose identifier nodes are per true person (so strangers never merge and no
    size guardrail is needed), over every identifier the resolver extracted except the values the
    guardrails block (junk emails, placeholder phones). Its recall bounds deterministic recall.
    """
    blocked = blocked_rule_sql(GuardrailConfig())
    con.execute(
        f"""
        CREATE OR REPLACE TABLE oracle_rec AS
        SELECT row_number() OVER () - 1 AS rec_ix, t.src, t.rid, t.person_id FROM truth t
        JOIN rec_deterministic d USING (src, rid);
        CREATE OR REPLACE TABLE oracle_edges AS
        WITH usable AS (
            SELECT r.rec_ix, r.person_id, i.id_type, i.id_value
            FROM read_parquet('{lake}/identity/identifiers.parquet') i
            JOIN oracle_rec r ON r.src = i.source AND r.rid = i.record_id
            WHERE ({blocked}) IS NULL
        )
        SELECT rec_ix, dense_rank() OVER (ORDER BY person_id, id_type, id_value) - 1 AS val_ix FROM usable
        """
    )
    edges = query_arrow(con, "SELECT rec_ix, val_ix FROM oracle_edges")
    # fetchall: a half-read result would block registering the labels below
    n_rec = con.execute("SELECT count(*) FROM oracle_rec").fetchall()[0][0]
    n_val = con.execute("SELECT coalesce(max(val_ix) + 1, 0) FROM oracle_edges").fetchall()[0][0]
    labels = component_labels(
        edges.column("rec_ix").to_numpy(), edges.column("val_ix").to_numpy(), n_rec, n_val
    )
    con.register("oracle_labels", pa.table({"rec_ix": np.arange(n_rec), "label": labels}))
    linkable, true_pairs = con.execute(
        """
        WITH l AS (SELECT r.person_id, o.label FROM oracle_rec r JOIN oracle_labels o USING (rec_ix))
        SELECT (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM l GROUP BY label)),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM l GROUP BY person_id))
        """
    ).fetchall()[0]
    con.unregister("oracle_labels")
    return {"linkable_pairs": int(linkable or 0), "true_pairs": int(true_pairs or 0)}


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


def shared_identifiers(con: duckdb.DuckDBPyConnection, lake: Path, mode: str, limit: int = 8) -> str:
    """For wrong merges: which identifier values are shared by records of different true people."""
    rows = con.execute(
        f"""
        WITH ids AS (
            SELECT r.customer_id, r.person_id, i.id_type, i.id_value
            FROM rec_{mode} r JOIN read_parquet('{lake}/identity/identifiers.parquet') i
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


def fn_causes(con: duckdb.DuckDBPyConnection, lake: Path, mode: str) -> str:
    """Missed pairs by what the two records have in common: a shared value means a guardrail cut it."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE ids AS
        SELECT source AS src, record_id AS rid,
               list(id_value) FILTER (WHERE id_type = 'email') AS em, list(id_value) FILTER (WHERE id_type = 'phone') AS ph
        FROM read_parquet('{lake}/identity/identifiers.parquet') GROUP BY ALL
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


def pair_attributes(con: duckdb.DuckDBPyConnection, lake: Path, errors: str, mode: str) -> str:
    """Error pairs by which matching attributes (as match keys) the two records agree on."""
    rows = con.execute(
        f"""
        WITH a AS (SELECT source AS src, record_id AS rid, first_name_key AS fn, last_name_key AS ln,
                          date_of_birth AS dob, postcode AS pc, address_line1 AS ad
                   FROM ({attributes_sql(lake)}))
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
    events = args.events or args.people * EVENTS_PER_PERSON
    gen_dir, data_dir, measures = prepare(events, args.people, args.seed, args.reuse)
    env = dict(os.environ, PYTHONHASHSEED="0")
    for mode in MODES:
        m = run_measured(
            [sys.executable, str(STAGES_PY), f"identity_{mode}", str(data_dir), str(gen_dir)], env
        )
        if m.returncode != 0:
            raise SystemExit(f"{mode} resolution failed:\n{m.result.get('error')}")
        measures[mode] = m.as_dict()

    lake = data_dir / "lake"
    con = resolution_connection("US")  # the attribute keys need the uds_* functions
    con.execute(TRUTH_SQL.format(gt=gen_dir / "ground_truth", lake=lake))
    rows, found = [], {}
    for mode, folder in MODES.items():
        map_sql = f"read_parquet('{lake / folder / 'identity_map.parquet'}')"
        found[mode] = metrics(con, map_sql)
        con.execute(ERRORS_SQL.format(mode=mode, map=map_sql))
        f, m = found[mode], measures[mode]
        rows.append([mode, f"{f['precision']:.4f}", f"{f['recall']:.4f}", f"{f['f1']:.4f}",
                     f"{f['predicted_pairs']:,}", f"{f['true_pairs']:,}", f"{m['seconds']:.1f}",
                     f"{m['cpu_seconds']:.1f}", f"{m['peak_rss_mib']:.0f}"])  # fmt: skip
    any_f = next(iter(found.values()))
    print(f"people={args.people:,} events={events:,} seed={args.seed} person records={any_f['records']:,} "
          f"(of {any_f['truth_records']:,} landed in truth)")  # fmt: skip
    print(fmt_table(["matching", "precision", "recall", "F1", "predicted pairs", "true pairs", "wall s",
                     "CPU s", "peak RSS MiB"], rows))  # fmt: skip
    ceiling = identifier_ceiling(con, lake)
    bound = ceiling["linkable_pairs"] / ceiling["true_pairs"] if ceiling["true_pairs"] else 1.0
    agree = found["deterministic"]["recall"] * found["deterministic"]["true_pairs"]
    print(f"\nidentifier ceiling: {ceiling['linkable_pairs']:,} of {ceiling['true_pairs']:,} true pairs "
          f"share a chain of usable identifiers (recall bound {bound:.4f}); deterministic links "
          f"{agree / ceiling['linkable_pairs']:.4f} of them")  # fmt: skip
    prep = [[k, f"{v['seconds']:.1f}", f"{v['cpu_seconds']:.1f}", f"{v['peak_rss_mib']:.0f}"] for k, v in measures.items()
            if k not in MODES]  # fmt: skip
    print("\nPreparation stages:\n" + fmt_table(["stage", "wall s", "CPU s", "peak RSS MiB"], prep))
    for mode in MODES:
        print(f"\n## {mode}: missed same-person pairs\n" + tag_table(con, "fn", mode))
        print("\n" + fn_causes(con, lake, mode))
        print(f"\n## {mode}: wrongly merged pairs\n" + tag_table(con, "fp", mode))
        print(
            f"\nidentifiers shared by different people in one customer ({mode}):\n"
            + shared_identifiers(con, lake, mode)
        )
        print("\nattributes the wrongly merged records agree on:\n" + pair_attributes(con, lake, "fp", mode))
        if mode != "deterministic":
            print("\nattributes the missed pairs agree on:\n" + pair_attributes(con, lake, "fn", mode))
    con.close()


if __name__ == "__main__":
    main()
