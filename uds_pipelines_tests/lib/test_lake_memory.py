"""`lake.release_memory`: DuckDB hands back what its allocator kept, and the connection is as before."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from uds_pipelines.lib import lake


def _limit(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_release_keeps_the_limit_as_given_and_the_temp_tables(tmp_path):
    con = lake.duckdb_connection("1.5GB")
    configured = _limit(con)
    con.execute("CREATE TEMP TABLE kept AS SELECT range AS i, repeat('x', 200) AS s FROM range(400000)")
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({"s": [f"row {i} " * 40 for i in range(200_000)]}), path)
    con.execute(f"SELECT count(*) FROM read_parquet('{path}') WHERE s LIKE '%zz%'").fetchall()
    lake.release_memory(con)
    # restored from the value it was created with, not from DuckDB's rounded display of it
    assert _limit(con) == configured
    assert con.execute("SELECT getvariable('uds_memory_limit')").fetchone()[0] == "1.5GB"
    assert con.execute("SELECT count(*), sum(i) FROM kept").fetchone() == (400000, 399999 * 400000 // 2)


def test_release_leaves_other_connections_alone():
    con = duckdb.connect()
    con.execute("SET memory_limit='3GB'")
    before = _limit(con)
    lake.release_memory(con)
    assert _limit(con) == before
