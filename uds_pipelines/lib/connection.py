"""The DuckDB connection every stage from identity on works with: the lake's connection
(`lake.duckdb_connection`: object storage registered, spills to a private folder, a memory
limit) with the `uds_*` normalization functions registered (`lib.normalize.register_duckdb_udfs`).

It sits below every domain so that identity, consent, profiles, segments, audiences and privacy
all open the same kind of connection without importing one another: the SQL each of them builds
(identifier keys, suppression matches, consent keys) calls the `uds_*` functions, and the key a
stage computes must be the key another stage computed from the same value.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, lake, lake_views
from uds_pipelines.lib.normalize.duckdb_udfs import register_duckdb_udfs

# The layers identity resolution, predictions, KPIs, segments, audiences and the warehouse read:
# what the graph derived, never landed files or the quarantine. The landed tables' views are the
# dear ones to make (at 10M events, 0.4 s of the 0.5 s a connection spent binding every view: the
# footers of thousands of landed files, and a request for each on object storage).
DERIVED_LAYERS = ("staged", "derived", "export", "privacy")


def connect(
    lake_dir: Path | None = None,
    default_region: str = "US",
    memory_limit: str = lake.DEFAULT_MEMORY_LIMIT,
    layers: tuple[str, ...] | None = None,
    tables: tuple[str, ...] = (),
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the normalization functions and a view per catalog
    table of `lake_dir` registered (`lake_views`): stage SQL names tables, never files.

    `default_region` is the country assumed for a phone number written without one
    (`UDS_DEFAULT_REGION`); `memory_limit` is `UDS_DUCKDB_MEMORY_LIMIT`, above which DuckDB
    spills to disk instead of failing. `layers` (catalog `Table.layer`s): only those tables'
    views, and those of `tables` (table or view names), for a stage that reads nothing else.
    """
    con = register_duckdb_udfs(lake.duckdb_connection(memory_limit), default_region)
    if lake_dir is not None:
        names = (
            None
            if layers is None
            else [n for n in catalog.TABLES if catalog.table(n).layer in layers] + list(tables)
        )
        lake_views.register(con, lake_dir, names)
    return con


def for_settings(
    settings, layers: tuple[str, ...] | None = None, tables: tuple[str, ...] = ()
) -> duckdb.DuckDBPyConnection:
    """`connect` with the lake, region and memory limit of a `config.Settings`."""
    return connect(settings.lake_dir, settings.default_region, settings.duckdb_memory_limit, layers, tables)
