"""Catalog views are valid wherever stage SQL puts a relation, whatever the DuckDB parser accepts
(DuckDB 2.0.1 rejected `FROM (read_parquet(...))`, which the old relation strings produced)."""

import pandas as pd
import pytest

from uds_pipelines.lib import connection, lake_views

# every way stage SQL places a table: bare, in a subquery, aliased in a join, inside a CTE
PLACEMENTS = [
    "SELECT count(*) FROM {rel}",
    "SELECT count(*) FROM (SELECT * FROM {rel})",
    "SELECT count(*) FROM (SELECT * FROM {rel}) AS t",
    "SELECT count(*) FROM (SELECT 1 AS k) k LEFT JOIN {rel} t ON true",
    "WITH t AS (SELECT * FROM {rel}) SELECT count(*) FROM t",
]


@pytest.fixture
def con(tmp_path):
    lake_dir = tmp_path / "lake"
    membership = pd.DataFrame(
        {"customer_id": ["c1", "c2"], "segment": ["vip", "vip"], "entered_at": pd.Timestamp("2026-01-01", tz="UTC")}
    )
    lake_views.write_arrow(lake_dir, "segment_membership", membership)
    for name, n in (("a.parquet", 1), ("b.parquet", 2)):
        quarantine = pd.DataFrame({"source": ["form"] * n, "source_file": "f", "position": range(n), "reason": "r",
                                   "raw": "x", "quarantined_at": pd.Timestamp("2026-01-01", tz="UTC")})  # fmt: skip
        lake_views.write_arrow(lake_dir, "quarantine", quarantine, batch_name=name)
    return connection.connect(lake_dir)


# a file table, a folder table, and one of each never written
TABLES = {"segment_membership": 2, "quarantine": 3, "suppression": 0, "landed_forms": 0}


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_every_view_works_in_every_placement(con, placement):
    for name, rows in TABLES.items():
        expected = max(rows, 1) if "LEFT JOIN" in placement else rows
        assert con.execute(placement.format(rel=name)).fetchone() == (expected,), name
