"""Connected components of the record-identifier graph over integer-encoded nodes (no per-row Python)."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from uds_pipelines.lib.identity import scratch


def query_arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """Run `sql` and return an Arrow table on DuckDB 1.x and 2.x alike."""
    relation = con.sql(sql)
    if hasattr(relation, "to_arrow_table"):
        return relation.to_arrow_table()
    return relation.fetch_arrow_table()


def component_labels(rec: np.ndarray, val: np.ndarray, n_rec: int, n_val: int) -> np.ndarray:
    """Component label per record for the bipartite graph with edges record `rec[i]` - value `val[i]`.

    Labels are arbitrary non-negative integers, equal exactly for records in the same component.
    """
    rec = np.asarray(rec, dtype=np.int64)
    val = np.asarray(val, dtype=np.int64) + n_rec
    n_nodes = n_rec + n_val
    try:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components
    except ImportError:  # scipy is optional: fall back to the array algorithm below
        return _labels_numpy(rec, val, n_nodes)[:n_rec]
    graph = coo_matrix((np.ones(len(rec), dtype=np.int8), (rec, val)), shape=(n_nodes, n_nodes)).tocsr()
    _, labels = connected_components(graph, directed=False)
    return labels[:n_rec].astype(np.int64)


def _labels_numpy(u: np.ndarray, v: np.ndarray, n_nodes: int) -> np.ndarray:
    """Shiloach-Vishkin style hooking + pointer jumping; every step is a whole-array operation."""
    parent = np.arange(n_nodes, dtype=np.int64)
    if len(u) == 0:
        return parent
    while True:
        pu, pv = parent[u], parent[v]
        differs = pu != pv
        if not differs.any():
            return parent
        lo = np.minimum(pu[differs], pv[differs])
        hi = np.maximum(pu[differs], pv[differs])
        # Hooking roots onto smaller roots keeps parent[x] <= x, so the forest never cycles.
        np.minimum.at(parent, hi, lo)
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
        u, v = u[differs], v[differs]


def components_table(
    con: duckdb.DuckDBPyConnection,
    edges_sql: str,
    n_rec: int,
    n_val: int,
    table: str,
    records_sql: str | None = None,
) -> int:
    """Create `table(rec_idx BIGINT, comp BIGINT)` from edges `(rec_idx, val_id)`; returns #components.

    With `records_sql` (a query of `rec_idx`) only those records get a row, which lets a caller
    re-run components on the part of the graph it just cut.
    """
    edges = con.execute(f"SELECT rec_idx::BIGINT AS r, val_id::BIGINT AS v FROM ({edges_sql})").fetchnumpy()
    labels = component_labels(edges["r"], edges["v"], n_rec, n_val)
    arrow = pa.table({"rec_idx": pa.array(np.arange(n_rec, dtype=np.int64)), "comp": pa.array(labels)})
    con.register(scratch.LABELS_ARROW, arrow)
    try:
        where = f"WHERE rec_idx IN ({records_sql})" if records_sql else ""
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT rec_idx, comp FROM {scratch.LABELS_ARROW} {where}"
        )
    finally:
        con.unregister(scratch.LABELS_ARROW)
    return con.execute(f"SELECT count(DISTINCT comp) FROM {table}").fetchall()[0][0]
