"""The probabilistic outputs of a resolution: `match_links` (every link, followed or cut) and
`match_review` (the pairs near the threshold), built as temp tables for `resolve.write_outputs`."""

from __future__ import annotations

import duckdb

from uds_pipelines.lib import catalog
from uds_pipelines.lib.identity import scratch


def no_rows(name: str) -> str:
    """An empty relation with the columns of catalog table `name` (a run with no previous run)."""
    cols = ", ".join(
        f"CAST(NULL AS {catalog.duckdb_type(f.type)}) AS {f.name}" for f in catalog.table(name).schema
    )
    return f"(SELECT {cols} WHERE false)"


def build_match_links(con: duckdb.DuckDBPyConnection, has_pairs: bool) -> None:
    """`_idr_match_links`: every probabilistic match with its probability and whether it was followed.

    Record ids only (no attribute values), so it is written on every run; empty when matching is
    deterministic, which also replaces the links of an earlier probabilistic run.
    """
    if not has_pairs:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {scratch.MATCH_LINKS} (
                source_l VARCHAR, record_id_l VARCHAR, source_r VARCHAR, record_id_r VARCHAR,
                match_probability DOUBLE, followed BOOLEAN, cut_by VARCHAR,
                customer_id_l VARCHAR, customer_id_r VARCHAR)
            """
        )
        return
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.MATCH_LINKS} AS
        SELECT l.source AS source_l, l.record_id AS record_id_l, r.source AS source_r, r.record_id AS record_id_r,
               p.match_probability, v.rule IS NULL AS followed, v.rule AS cut_by,
               cl.customer_id AS customer_id_l, cr.customer_id AS customer_id_r
        FROM {scratch.PAIRS} p JOIN {scratch.VALUES} v USING (val_id)
        JOIN {scratch.RECORDS} l ON l.rec_idx = p.rec_l JOIN {scratch.RECORDS} r ON r.rec_idx = p.rec_r
        JOIN {scratch.REC_CUSTOMER} cl ON cl.rec_idx = p.rec_l JOIN {scratch.REC_CUSTOMER} cr ON cr.rec_idx = p.rec_r
        ORDER BY source_l, record_id_l, source_r, record_id_r
        """
    )


def build_match_review(con: duckdb.DuckDBPyConnection) -> None:
    """`_idr_match_review`: the scored pairs near the threshold (either side), for a person to check.

    With both records' match keys (personal data, declared in the catalog), the weights, whether the
    pair was above the threshold and whether the two records ended up as one customer (a guardrail
    may have cut a link above it; identifiers may join a pair below it). Empty when deterministic.
    """
    exists = con.execute(
        f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{scratch.PROB_REVIEW}' AND temporary"
    ).fetchall()[0][0]
    if not exists:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {scratch.MATCH_REVIEW} AS {no_rows('match_review')}")
        return
    keys = ", ".join(f"p.{k}_l, p.{k}_r" for k in catalog.MATCH_REVIEW_KEYS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.MATCH_REVIEW} AS
        SELECT l.source AS source_l, l.record_id AS record_id_l, r.source AS source_r, r.record_id AS record_id_r,
               p.match_weight, p.match_probability, p.threshold_weight, p.above_threshold,
               cl.customer_id = cr.customer_id AS linked, cl.customer_id AS customer_id_l,
               cr.customer_id AS customer_id_r, {keys}
        FROM {scratch.PROB_REVIEW} p
        JOIN {scratch.RECORDS} l ON l.rec_idx = p.rec_l JOIN {scratch.RECORDS} r ON r.rec_idx = p.rec_r
        JOIN {scratch.REC_CUSTOMER} cl ON cl.rec_idx = p.rec_l JOIN {scratch.REC_CUSTOMER} cr ON cr.rec_idx = p.rec_r
        ORDER BY abs(p.match_weight - p.threshold_weight), source_l, record_id_l, source_r, record_id_r
        """
    )
