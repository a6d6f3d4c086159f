"""Erasure's row matching with the needles of thousands of people at once (a backlog of requests)."""

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from uds_pipelines.lib.privacy.matchers import ANCHOR_TABLE, erasure_spec
from uds_pipelines.lib.privacy.needles import needle_pattern
from uds_pipelines.lib.privacy.rewrite import matching_rows
from uds_pipelines.lib.privacy.scan_index import build_index


@pytest.mark.parametrize("search", ["alternation", "anchor_index"])
def test_rows_are_found_and_attributed_with_fifty_thousand_needles(tmp_path, search):
    needles = pd.DataFrame(
        {
            "needle": [f"person{i:06d}@example.com" for i in range(50_000)],
            "request_id": [f"r{i}" for i in range(50_000)],
        }  # fmt: skip
    )
    con = duckdb.connect()
    con.register("_needles", needles)
    con.execute("CREATE TEMP TABLE _er_needle AS SELECT * FROM _needles")
    path = tmp_path / "batch.parquet"
    notes = ["contact PERSON000042@example.com today", "nobody@example.org", "x person049999@example.com"]
    pq.write_table(pa.table({"note": notes}), path)

    index = build_index(con, needles["needle"].tolist(), ANCHOR_TABLE) if search == "anchor_index" else None
    spec = erasure_spec({"note": "VARCHAR"}, needle_pattern(needles["needle"]), index)
    matched, tags = matching_rows(con, [path], spec)
    assert matched[path].tolist() == [0, 2]
    assert tags == {(path, "r42"): 1, (path, "r49999"): 1}


def test_export_rows_are_found_with_fifty_thousand_needles():
    from uds_pipelines.lib.privacy.exports_erase import row_matches

    pattern = needle_pattern(f"person{i:06d}@example.com" for i in range(50_000))
    texts = ["a,PERSON000042@example.com,b", "nobody@example.org", "person049999@example.com"]
    assert row_matches(duckdb.connect(), texts, pattern) == [True, False, True]
