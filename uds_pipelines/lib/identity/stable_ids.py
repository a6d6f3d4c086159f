"""Stable customer ids: carried over run to run, oldest id wins a merge, a split gives merged ids back."""

from __future__ import annotations

import os
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

from uds_pipelines.lib.identity import scratch

ID_PREFIX = "uds_"
ID_HEX_CHARS = 20

# The public contract is (source, record_id, customer_id); the origin id is the id a record first
# received, kept while that id lives on in its person (see `assign_ids`).
ORIGIN_COLUMN = "origin_customer_id"


def new_customer_ids(count: int) -> pa.Array:
    """`count` random ids `uds_<20 hex>` from the OS CSPRNG: never derived from personal data."""
    if count <= 0:
        return pa.array([], type=pa.string())
    hex_blob = os.urandom(count * ID_HEX_CHARS // 2).hex().encode("ascii")
    chunks = np.frombuffer(hex_blob, dtype=f"S{ID_HEX_CHARS}")
    return pa.array(np.char.add(ID_PREFIX.encode(), chunks).astype(str))


def assign_ids(
    con: duckdb.DuckDBPyConnection, prev_map_table: str, prev_registry_table: str, now: datetime
) -> None:
    """From `_idr_records` and `_idr_comp`, create `_idr_overlap`, `_idr_claims`, `_idr_survivors`,
    `_idr_comp_ids` and `_idr_rec_origin`, given the previous run's map and registry
    (`prev_map_table`, `prev_registry_table`: tables or views with the catalog's columns).

    Every record remembers its origin id (`ORIGIN_COLUMN` of the map; the customer_id for maps
    written before it existed): the id it first received, kept while that id lives on in its person,
    either as the person's id or merged into it. Each previous id with records in this run claims one
    component: the one holding most records of that origin (tie: smallest (source, record_id)); an id
    none of whose origin records are left claims the component holding most records it carried. A
    component claimed by several ids keeps the oldest (registry created_at, then ids that were live,
    then smallest id): merged ids whose records split off get their id back; unclaimed components get
    new ids.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.PREV_REGISTRY} AS
        SELECT customer_id, min(created_at) AS created_at
        FROM {prev_registry_table} WHERE customer_id IS NOT NULL GROUP BY customer_id
        """
    )
    prev_map = _prev_map_sql(prev_map_table)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.PREV_IDS} AS
        SELECT DISTINCT customer_id
        FROM (SELECT unnest([customer_id, origin_id]) AS customer_id FROM ({prev_map}))
        WHERE customer_id IS NOT NULL
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.PREV_REC} AS
        SELECT c.comp, p.customer_id AS prev_id, p.origin_id, r.source || chr(31) || r.record_id AS rec_key,
               r.rec_idx
        FROM {scratch.RECORDS} r
        JOIN (SELECT source, record_id, min(customer_id) AS customer_id,
                     arg_min(origin_id, customer_id) AS origin_id
              FROM ({prev_map}) WHERE customer_id IS NOT NULL GROUP BY source, record_id) p
          ON p.source = r.source AND p.record_id = r.record_id
        JOIN {scratch.COMP} c ON c.rec_idx = r.rec_idx;
        CREATE OR REPLACE TEMP TABLE {scratch.OVERLAP} AS
        SELECT comp, prev_id, count(*) AS n, min(rec_key) AS min_rec FROM {scratch.PREV_REC} GROUP BY comp, prev_id;
        CREATE OR REPLACE TEMP TABLE {scratch.ORIGIN_OVERLAP} AS
        SELECT comp, origin_id, count(*) AS n, min(rec_key) AS min_rec
        FROM {scratch.PREV_REC} GROUP BY comp, origin_id;
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.CLAIMS} AS
        WITH own AS (
            SELECT origin_id AS prev_id, comp, n FROM {scratch.ORIGIN_OVERLAP}
            QUALIFY row_number() OVER (PARTITION BY origin_id ORDER BY n DESC, min_rec) = 1
        ),
        held AS (
            SELECT prev_id, comp, n FROM {scratch.OVERLAP} WHERE prev_id NOT IN (SELECT prev_id FROM own)
            QUALIFY row_number() OVER (PARTITION BY prev_id ORDER BY n DESC, min_rec) = 1
        ),
        live AS (SELECT DISTINCT prev_id FROM {scratch.OVERLAP}),
        target AS (SELECT origin_id, min(prev_id) AS prev_target FROM {scratch.PREV_REC} GROUP BY origin_id),
        picked AS (SELECT * FROM own UNION ALL SELECT * FROM held)
        SELECT p.prev_id, p.comp, coalesce(o.n, p.n) AS n, coalesce(g.created_at, ?) AS created_at,
               l.prev_id IS NOT NULL AS was_live,
               CASE WHEN l.prev_id IS NOT NULL THEN p.prev_id ELSE t.prev_target END AS prev_target
        FROM picked p
        LEFT JOIN {scratch.OVERLAP} o ON o.prev_id = p.prev_id AND o.comp = p.comp
        LEFT JOIN live l ON l.prev_id = p.prev_id
        LEFT JOIN target t ON t.origin_id = p.prev_id
        LEFT JOIN {scratch.PREV_REGISTRY} g ON g.customer_id = p.prev_id
        """,
        [now],
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.SURVIVORS} AS
        SELECT comp, prev_id AS customer_id FROM {scratch.CLAIMS}
        QUALIFY row_number() OVER (PARTITION BY comp ORDER BY created_at, was_live DESC, prev_id) = 1
        """
    )
    unclaimed = con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.UNCLAIMED} AS
        SELECT comp, row_number() OVER (ORDER BY comp) - 1 AS k
        FROM (SELECT DISTINCT comp FROM {scratch.COMP}) WHERE comp NOT IN (SELECT comp FROM {scratch.SURVIVORS});
        SELECT count(*) FROM {scratch.UNCLAIMED}
        """
    ).fetchall()[0][0]
    fresh = _fresh_ids(con, unclaimed)
    con.register(
        scratch.FRESH_ARROW,
        pa.table({"k": pa.array(np.arange(unclaimed, dtype=np.int64)), "customer_id": fresh}),
    )
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {scratch.COMP_IDS} AS
            SELECT comp, customer_id, false AS is_new FROM {scratch.SURVIVORS}
            UNION ALL
            SELECT u.comp, f.customer_id, true AS is_new FROM {scratch.UNCLAIMED} u JOIN {scratch.FRESH_ARROW} f USING (k)
            """
        )
    finally:
        con.unregister(scratch.FRESH_ARROW)
    # A record keeps its origin while it sits in the component its origin id claimed (that id is
    # its person's id or merged into it); otherwise (new record, or split off from its origin's
    # records) the id it gets now becomes its origin.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.REC_ORIGIN} AS
        SELECT c.rec_idx,
               CASE WHEN cl.comp = c.comp THEN p.origin_id ELSE ci.customer_id END AS {ORIGIN_COLUMN}
        FROM {scratch.COMP} c JOIN {scratch.COMP_IDS} ci USING (comp)
        LEFT JOIN {scratch.PREV_REC} p USING (rec_idx)
        LEFT JOIN {scratch.CLAIMS} cl ON cl.prev_id = p.origin_id
        """
    )


def _prev_map_sql(prev_map_table: str) -> str:
    """The previous map as (source, record_id, customer_id, origin_id); a map written before the
    origin column reads it as NULL (the catalog's added column), and the origin is then the customer_id."""
    return (
        f"SELECT source, record_id, customer_id, coalesce({ORIGIN_COLUMN}, customer_id) AS origin_id "
        f"FROM {prev_map_table}"
    )


def _fresh_ids(con: duckdb.DuckDBPyConnection, count: int, attempts: int = 5) -> pa.Array:
    """New ids that collide with no id ever issued (80 random bits make a retry practically never happen)."""
    for _ in range(attempts):
        ids = new_customer_ids(count)
        con.register(scratch.CANDIDATE_IDS, pa.table({"customer_id": ids}))
        try:
            clashes = con.execute(
                f"""
                SELECT (SELECT count(*) - count(DISTINCT customer_id) FROM {scratch.CANDIDATE_IDS})
                     + (SELECT count(*) FROM {scratch.CANDIDATE_IDS}
                        WHERE customer_id IN (SELECT customer_id FROM {scratch.PREV_REGISTRY})
                           OR customer_id IN (SELECT customer_id FROM {scratch.PREV_IDS}))
                """
            ).fetchall()[0][0]
        finally:
            con.unregister(scratch.CANDIDATE_IDS)
        if clashes == 0:
            return ids
    raise RuntimeError("could not draw unique customer ids; the random source looks broken")
