"""The Aho-Corasick scan finds exactly the values the bounded needle pattern matches."""

import re

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from uds_pipelines.lib.privacy.needle_scan import NeedleScanner, lowered_sql
from uds_pipelines.lib.privacy.needles import needle_pattern

NEEDLES = ["ann@x.com", "joann@x.com", "cus_abc123", "+14155550100", "14155550100", "b@x.com", "ab@x.com"]
# Pieces that build texts around the needles: their boundaries, lookalikes and separators.
PIECES = NEEDLES + [
    "a",
    "b",
    "x",
    ".",
    "-",
    "_",
    "@",
    " ",
    ",",
    "\n",
    "9",
    "é",
    ".com",
    "cus_abc1234",
    "\\u00e9",
]


def _expected(values: list[str | None], bounded: bool = True) -> list[int]:
    pattern = re.compile(needle_pattern(NEEDLES, bounded))
    return [i for i, v in enumerate(values) if v is not None and pattern.search(v)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.lists(st.sampled_from(PIECES), max_size=8).map("".join)), max_size=30)
)
def test_rows_are_the_ones_the_bounded_pattern_matches(values):
    scanner = NeedleScanner(NEEDLES)
    array = pa.array(values, pa.string())
    assert scanner.rows(array).tolist() == _expected(values)
    assert scanner.rows(array, bounded=False).tolist() == _expected(values, bounded=False)
    # the same values sliced and in chunks: offsets into a shared buffer
    chunked = pa.chunked_array([array.slice(0, len(values) // 2), array.slice(len(values) // 2)], pa.string())
    assert scanner.rows(chunked).tolist() == _expected(values)


def test_a_match_running_into_the_next_value_hides_nothing():
    # "a" then "b@x.com": the buffer reads "ab@x.com", the longer needle, across two values;
    # the second value alone holds "b@x.com" on its boundaries.
    values = ["zz a", "b@x.com", "", None, "ab@x.co", "m"]
    assert NeedleScanner(NEEDLES).rows(pa.array(values)).tolist() == [1]


def test_a_longer_needle_failing_its_boundary_does_not_hide_a_shorter_one():
    # leftmost-longest reports "joann@x.com" (preceded by a letter: not bounded); "ann@x.com" inside
    # it is not bounded either, but the second value's "b@x.com" after a "+" ... is.
    values = ["xjoann@x.com", "zab@x.com b@x.com", "14155550100"]
    assert NeedleScanner(NEEDLES).rows(pa.array(values)).tolist() == [1, 2]


def test_ascii_letters_are_lowered_by_the_scan_itself():
    # what `lowered_sql` hands over: ASCII values as they are, others lower-cased by DuckDB
    con = duckdb.connect()
    values = ["Contact ANN@X.COM", "ZANN@X.COM", "CUS_ABC123.", "Ä ann@x.com", "ÄNN@X.COM"]
    lowered = [
        v for (v,) in con.execute(f"SELECT {lowered_sql('v')} FROM unnest($1) t(v)", [values]).fetchall()
    ]
    assert lowered[3] == "ä ann@x.com" and lowered[0] == values[0]
    assert NeedleScanner(NEEDLES).rows(pa.array(lowered)).tolist() == [0, 2, 3]
    # a slice of a larger buffer: only its own bytes count
    assert NeedleScanner(NEEDLES).rows(pa.array(values).slice(1, 2)).tolist() == [1]


def test_large_strings_and_no_needles():
    values = pa.array(["ann@x.com", "nobody"], pa.large_string())
    assert NeedleScanner(NEEDLES).count(values) == 1
    assert NeedleScanner([]).count(values) == 0
