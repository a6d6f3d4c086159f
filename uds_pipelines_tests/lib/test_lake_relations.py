"""Lake relations are valid wherever SQL puts a relation, whatever the DuckDB parser accepts."""

import duckdb
import pandas as pd
import pytest

from uds_pipelines.lib import lake

# every way stage SQL places a relation: bare, wrapped again, aliased in a join, inside a CTE
PLACEMENTS = [
    "SELECT count(*) FROM {rel}",
    "SELECT count(*) FROM ({rel})",
    "SELECT count(*) FROM ({rel}) AS t",
    "SELECT count(*) FROM (SELECT 1 AS k) k LEFT JOIN {rel} t ON true",
    "WITH t AS (SELECT * FROM ({rel})) SELECT count(*) FROM t",
]


@pytest.fixture
def tables(tmp_path):
    one = tmp_path / "one.parquet"
    lake.write_parquet_atomic(pd.DataFrame({"x": [1, 2]}), one)
    folder = tmp_path / "folder"
    for name, rows in (("a", [1]), ("b", [2, 3])):
        lake.write_parquet_atomic(pd.DataFrame({"x": rows}), folder / f"{name}.parquet")
    return {
        "file": (lake.read_table_sql(one, {"x": "INTEGER"}), 2),
        "folder": (lake.read_table_sql(folder, {"x": "INTEGER"}), 3),
        "missing file": (lake.read_table_sql(tmp_path / "none.parquet", {"x": "INTEGER"}), 0),
        "missing folder": (lake.read_table_sql(tmp_path / "none", {"x": "INTEGER"}), 0),
        "parquet_relation": (lake.parquet_relation(one), 2),
    }


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_every_lake_relation_works_in_every_placement(tables, placement):
    con = duckdb.connect()
    for kind, (rel, rows) in tables.items():
        expected = max(rows, 1) if "LEFT JOIN" in placement else rows
        assert con.execute(placement.format(rel=rel)).fetchone() == (expected,), kind


def test_no_relation_is_a_bare_table_function(tables):
    # DuckDB 2.0.1 rejects `FROM (read_parquet(...))`; a relation must be a subquery
    for kind, (rel, _) in tables.items():
        assert rel.startswith("(SELECT "), kind
