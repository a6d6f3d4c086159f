"""Stable customer ids: carry ids over from the previous run, oldest id wins a merge, biggest part keeps a split."""

from __future__ import annotations

import os
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

ID_PREFIX = "uds_"
ID_HEX_CHARS = 20

MAP_COLUMNS = {"source": "VARCHAR", "record_id": "VARCHAR", "customer_id": "VARCHAR"}
REGISTRY_COLUMNS = {
    "customer_id": "VARCHAR",
    "created_at": "TIMESTAMP WITH TIME ZONE",
    "status": "VARCHAR",
    "merged_into": "VARCHAR",
    "status_changed_at": "TIMESTAMP WITH TIME ZONE",
}


def new_customer_ids(count: int) -> pa.Array:
    """`count` random ids `uds_<20 hex>` from the OS CSPRNG: never derived from personal data."""
    if count <= 0:
        return pa.array([], type=pa.string())
    hex_blob = os.urandom(count * ID_HEX_CHARS // 2).hex().encode("ascii")
    chunks = np.frombuffer(hex_blob, dtype=f"S{ID_HEX_CHARS}")
    return pa.array(np.char.add(ID_PREFIX.encode(), chunks).astype(str))


def assign_ids(
    con: duckdb.DuckDBPyConnection, prev_map_sql: str, prev_registry_sql: str, now: datetime
) -> None:
    """From `_idr_records` and `_idr_comp`, create `_idr_overlap`, `_idr_claims` and `_idr_comp_ids`.

    A previous id claims the component holding most of its records (tie: the component with the
    smallest (source, record_id) of its records). A component claimed by
    several ids keeps the oldest (registry created_at, tie: smallest id); unclaimed components get new ids.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _idr_prev_registry AS
        SELECT customer_id, min(created_at) AS created_at
        FROM ({prev_registry_sql}) WHERE customer_id IS NOT NULL GROUP BY customer_id
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _idr_prev_ids AS
        SELECT DISTINCT customer_id FROM ({prev_map_sql}) WHERE customer_id IS NOT NULL
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _idr_overlap AS
        SELECT c.comp, p.customer_id AS prev_id, count(*) AS n, min(r.source || chr(31) || r.record_id) AS min_rec
        FROM _idr_records r
        JOIN (SELECT DISTINCT source, record_id, customer_id FROM ({prev_map_sql})
              WHERE customer_id IS NOT NULL) p
          ON p.source = r.source AND p.record_id = r.record_id
        JOIN _idr_comp c ON c.rec_idx = r.rec_idx
        GROUP BY c.comp, p.customer_id
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _idr_claims AS
        SELECT o.prev_id, o.comp, o.n, coalesce(g.created_at, ?) AS created_at
        FROM _idr_overlap o LEFT JOIN _idr_prev_registry g ON g.customer_id = o.prev_id
        QUALIFY row_number() OVER (PARTITION BY o.prev_id ORDER BY o.n DESC, o.min_rec) = 1
        """,
        [now],
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _idr_survivors AS
        SELECT comp, prev_id AS customer_id FROM _idr_claims
        QUALIFY row_number() OVER (PARTITION BY comp ORDER BY created_at, prev_id) = 1
        """
    )
    unclaimed = con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _idr_unclaimed AS
        SELECT comp, row_number() OVER (ORDER BY comp) - 1 AS k
        FROM (SELECT DISTINCT comp FROM _idr_comp) WHERE comp NOT IN (SELECT comp FROM _idr_survivors);
        SELECT count(*) FROM _idr_unclaimed
        """
    ).fetchall()[0][0]
    fresh = _fresh_ids(con, unclaimed)
    con.register(
        "_idr_fresh_arrow",
        pa.table({"k": pa.array(np.arange(unclaimed, dtype=np.int64)), "customer_id": fresh}),
    )
    try:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _idr_comp_ids AS
            SELECT comp, customer_id, false AS is_new FROM _idr_survivors
            UNION ALL
            SELECT u.comp, f.customer_id, true AS is_new FROM _idr_unclaimed u JOIN _idr_fresh_arrow f USING (k)
            """
        )
    finally:
        con.unregister("_idr_fresh_arrow")


def _fresh_ids(con: duckdb.DuckDBPyConnection, count: int, attempts: int = 5) -> pa.Array:
    """New ids that collide with no id ever issued (80 random bits make a retry practically never happen)."""
    for _ in range(attempts):
        ids = new_customer_ids(count)
        con.register("_idr_candidate_ids", pa.table({"customer_id": ids}))
        try:
            clashes = con.execute(
                """
                SELECT (SELECT count(*) - count(DISTINCT customer_id) FROM _idr_candidate_ids)
                     + (SELECT count(*) FROM _idr_candidate_ids
                        WHERE customer_id IN (SELECT customer_id FROM _idr_prev_registry)
                           OR customer_id IN (SELECT customer_id FROM _idr_prev_ids))
                """
            ).fetchall()[0][0]
        finally:
            con.unregister("_idr_candidate_ids")
        if clashes == 0:
            return ids
    raise RuntimeError("could not draw unique customer ids; the random source looks broken")
