"""Stripe landing's cheaper passes keep their results: the split suspect-number test, line numbers
when pass 1 parses in parallel and a refused file sits among readable ones, and claim hashes."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from uds_pipelines.lib import lake
from uds_pipelines.lib.ingest.stripe_files import batch_name_for, land_stripe_files
from uds_pipelines.lib.ingest.stripe_landing import envelope

# Text around the suspect-number pattern's edges: each lead character, whitespace, signs, short and
# long exponents, 18/19 digits, NaN/Infinity in any case, and the same inside strings.
SAMPLES = [
    '{"a":1e400}',
    '{"a": -1E+99}',
    '{"a":\t1.5e-07}',
    '{"a":1e5}',
    '{"a":[1,2,1e30]}',
    '{"a":[ 12345678901234567890]}',
    '{"a":[NaN]}',
    '{"a":-Infinity}',
    '{"a":inf}',
    '{"a":123456789012345678}',
    '{"a":1234567890123456789}',
    '{"a":"x:1e99"}',
    '{"a":"x,NaN"}',
    '{"a":"[0000000000000000000"}',
    '{"a":"1e99"}',
    '{"a":.e12}',
    '{"a":\r\n -9999999999999999999}',
    '{"id":"evt_1cTXePjhwL07H5P7","created":1700000000}',
    "",
]


def test_the_split_suspect_patterns_match_exactly_what_the_single_pattern_matches():
    con = duckdb.connect()
    split = " OR ".join(f"regexp_matches(s, {envelope.sql_str(p)})" for p in envelope.SUSPECT_NUMBER_SPLIT)
    rows = con.execute(
        f"SELECT s, regexp_matches(s, {envelope.sql_str(envelope.SUSPECT_NUMBER)}), {split} "
        "FROM unnest(?::VARCHAR[]) AS t(s)",
        [SAMPLES],
    ).fetchall()
    assert [r for r in rows if r[1] != r[2]] == []
    assert sum(r[1] for r in rows) >= 12  # the samples do exercise the pattern


def _event(event_id: str, amount: object = 100) -> str:
    obj = {"id": f"ch_{event_id}", "object": "charge", "customer": "cus_1", "amount": amount}
    body = {"id": event_id, "object": "event", "created": 1700000000, "type": "charge.succeeded"}
    return json.dumps({**body, "data": {"object": obj}})


def _write(path: Path, lines: list[bytes | str]) -> Path:
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines) + b"\n")
    return path


def test_line_numbers_hold_with_a_refused_file_between_readable_ones(tmp_path):
    """The up-front probe sends only the refused file through cleaning; the parallel parse is numbered
    in file order, so quarantine positions, duplicates (first occurrence wins) and landed positions
    all follow the lines."""
    n = 30_000
    a = [_event(f"evt_a{i}") for i in range(n)]
    a[777] = "{broken"
    a[20_001] = _event("evt_big", 10**20)
    b = [_event(f"evt_b{i}") for i in range(n)]
    b[5] = b"\xff\xfe not utf-8"
    b[9] = _event("evt_a3")  # a duplicate of a line in an earlier file
    c = [_event(f"evt_c{i}") for i in range(n)]
    c[29_999] = _event("evt_nan").replace('"amount": 100', '"amount": NaN')
    files = [_write(tmp_path / f"{x}.jsonl", rows) for x, rows in (("a", a), ("b", b), ("c", c))]
    result = land_stripe_files(files, tmp_path / "lake", con=lake.duckdb_connection(threads=2))
    reasons = {(r.source_file, r.position): r.reason for r in result.quarantine}
    assert reasons == {
        ("a.jsonl", 778): reasons[("a.jsonl", 778)],
        ("a.jsonl", 20_002): "number out of range at line 20002: $.data.object.amount",
        ("b.jsonl", 6): "invalid UTF-8 at line 6",
        ("c.jsonl", 30_000): reasons[("c.jsonl", 30_000)],
    }
    assert reasons[("a.jsonl", 778)].startswith("invalid JSON at line 778")
    assert reasons[("c.jsonl", 30_000)].endswith("at line 30000: $.data.object.amount")
    assert (result.records_read, result.duplicates_skipped, result.records_landed) == (3 * n, 1, 3 * n - 5)
    assert result.conserved
    wrong = duckdb.connect().execute(
        "SELECT count(*) FILTER (WHERE event_id <> 'evt_' || substr(source_file, 1, 1) || (position - 1)) "
        f"FROM '{result.batch_path}' WHERE event_id NOT IN ('evt_big', 'evt_nan')"
    ).fetchone()
    assert wrong == (0,)


def test_hashes_the_caller_took_are_used_instead_of_hashing_again(tmp_path, monkeypatch):
    src = _write(tmp_path / "in.jsonl", [_event("evt_1")])
    given = "ab" * 32

    def no_hashing(path):
        raise AssertionError(f"hashed {path} again")

    monkeypatch.setattr(lake, "sha256_file", no_hashing)
    result = land_stripe_files([src], tmp_path / "lake", hashes={src: given})
    assert result.files[0].sha256 == given
    assert result.batch_name == batch_name_for([given])
    assert result.records_landed == 1


@pytest.mark.parametrize("given", [None, {}])
def test_without_hashes_every_file_is_hashed(tmp_path, given):
    src = _write(tmp_path / "in.jsonl", [_event("evt_1")])
    result = land_stripe_files([src], tmp_path / "lake", hashes=given)
    assert result.files[0].sha256 == lake.sha256_file(src)
