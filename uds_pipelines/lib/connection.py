"""The DuckDB connection every stage from identity on works with: the lake's connection
(`lake.duckdb_connection`: object storage registered, spills to a private folder, a memory
limit) with the `uds_*` normalization functions registered (`lib.normalize.register_duckdb_udfs`).

It sits below every domain so that identity, consent, profiles, segments, audiences and privacy
all open the same kind of connection without importing one another: the SQL each of them builds
(identifier keys, suppression matches, consent keys) calls the `uds_*` functions, and the key a
stage computes must be the key another stage computed from the same value.
"""

from __future__ import annotations

import duckdb

from uds_pipelines.lib import lake
from uds_pipelines.lib.normalize.duckdb_udfs import register_duckdb_udfs


def connect(default_region: str = "US", memory_limit: str = "2GB") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the normalization functions registered.

    `default_region` is the country assumed for a phone number written without one
    (`UDS_DEFAULT_REGION`); `memory_limit` is `UDS_DUCKDB_MEMORY_LIMIT`, above which DuckDB
    spills to disk instead of failing.
    """
    return register_duckdb_udfs(lake.duckdb_connection(memory_limit), default_region)
