"""Erasure's row matching with the needles of thousands of people at once (a backlog of requests)."""

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from uds_pipelines.lib.privacy.exports_erase import row_matches
from uds_pipelines.lib.privacy.matchers import erasure_spec, register_needles
from uds_pipelines.lib.privacy.needle_scan import NeedleScanner
from uds_pipelines.lib.privacy.rewrite import matching_rows

NEEDLES = [f"person{i:06d}@example.com" for i in range(50_000)]


def test_rows_are_found_and_attributed_with_fifty_thousand_needles(tmp_path):
    needles = pd.DataFrame({"needle": NEEDLES, "request_id": [f"r{i}" for i in range(len(NEEDLES))]})
    con = duckdb.connect()
    con.register("_needles", needles)
    con.execute("CREATE TEMP TABLE _er_needle AS SELECT * FROM _needles")
    path = tmp_path / "batch.parquet"
    notes = [
        "contact PERSON000042@example.com today",
        "nobody@example.org",
        "x person049999@example.com",
        "xperson000007@example.com",  # a longer address: not person 7's
    ]
    pq.write_table(pa.table({"note": notes, "other": ["", "", "", "person000008@example.com."]}), path)
    scanner = NeedleScanner(NEEDLES)
    register_needles(con, scanner)
    spec = erasure_spec({"note": "VARCHAR", "other": "VARCHAR"}, scanner)
    matched, tags = matching_rows(con, [path], spec)
    assert matched[path].tolist() == [0, 2, 3]
    assert tags == {(path, "r42"): 1, (path, "r49999"): 1, (path, "r8"): 1}


def test_export_rows_are_found_with_fifty_thousand_needles():
    texts = ["a,PERSON000042@example.com,b", "nobody@example.org", "person049999@example.com"]
    assert row_matches(texts, NeedleScanner(NEEDLES)) == [True, False, True]
    assert row_matches(texts, None) == [False, False, False]
