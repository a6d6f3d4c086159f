"""Privacy's reads of catalog tables, through their `lake_views` views.

Privacy functions run on connections their callers made (the privacy stages, the ingest
suppression gate, tests) and between file-level rewrites that change tables under a view's feet
(erasure and retention rewrite or delete batch files, not through `lake_views.write_*`). So a read
first (re)registers the views it names: they are then present on any connection and bound to the
files as they are now. That costs what a path-based read cost before: a listing per folder table,
an existence check per file table.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from uds_pipelines.lib import catalog, connection, lake_views


def fresh_views(con: duckdb.DuckDBPyConnection, lake_dir: Path, *names: str) -> None:
    """(Re)register the views of the named catalog tables on `con`, bound to the current files."""
    lake_views.register(con, lake_dir, names)


def read_table(lake_dir: Path, name: str, con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    """A (small) catalog table whole, typed as the catalog declares it (empty before it is written);
    on `con`, or on a connection of its own."""
    own = con is None
    con = con or connection.connect()
    try:
        fresh_views(con, lake_dir, name)
        data = con.sql(f"SELECT * FROM {name}").to_arrow_table()
    finally:
        if own:
            con.close()
    schema = catalog.table(name).schema
    # DuckDB hands TIMESTAMPTZ out in the session's time zone: back to the catalog's UTC types.
    return data.cast(schema) if data.schema.names == schema.names else data
