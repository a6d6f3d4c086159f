"""Needle alternations split into DFA-sized parts match exactly what the whole alternation matches."""

from __future__ import annotations

import duckdb

from uds_pipelines.lib.privacy.needles import (
    _alternatives,
    expand_needles,
    matches_sql,
    needle_pattern,
    split_pattern,
)


def _needles(n: int) -> list[str]:
    values = [f"person{i}.name@example{i % 7}.com" for i in range(n)]
    values += [f"+1415555{i:04d}" for i in range(n)]
    values += [f"cus_{i:06d}abc" for i in range(n)]
    values += ["émile.zola@example.fr"]
    return expand_needles(values)


def test_split_pattern_keeps_every_needle_and_the_boundaries() -> None:
    needles = _needles(400)
    for bounded in (True, False):
        whole = needle_pattern(needles, bounded=bounded)
        parts = split_pattern(whole, max_chars=2000)
        assert len(parts) > 1
        assert all(len(p) <= 2200 for p in parts)
        left, items, right = _alternatives(whole)
        split_items = [i for p in parts for i in _alternatives(p)[1]]
        assert sorted(split_items) == sorted(items)
        assert all(p.startswith(left) and p.endswith(right) for p in parts)


def test_short_or_foreign_patterns_are_left_alone() -> None:
    pattern = needle_pattern(["ann@x.com"])
    assert split_pattern(pattern) == [pattern]
    assert split_pattern("[a-z]+@x", max_chars=3) == ["[a-z]+@x"]


def test_split_scan_matches_like_the_whole_pattern() -> None:
    needles = _needles(300)
    whole = needle_pattern(needles)
    texts = [
        "mail from PERSON12.NAME@EXAMPLE5.COM today",
        "joperson12.name@example5.com",  # inside a longer address: no match
        "call +14155550299.",
        "call +141555502991",  # longer number: no match
        "ref cus_000123abcd",  # longer id: no match
        '{"email":"\\u00e9mile.zola@example.fr"}',
        "nothing here",
        None,
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, x VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(texts)))
    split_sql = matches_sql("lower(x)", whole)
    assert split_sql.count("regexp_matches") > 1
    got = con.execute(f"SELECT i FROM t WHERE {split_sql} ORDER BY i").fetchall()
    want = con.execute("SELECT i FROM t WHERE regexp_matches(lower(x), ?) ORDER BY i", [whole]).fetchall()
    assert got == want
    assert [i for (i,) in got] == [0, 2, 5]
