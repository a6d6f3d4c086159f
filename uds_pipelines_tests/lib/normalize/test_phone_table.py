"""The phone table: each distinct (phone, region) normalized once, the same on workers as here."""

from __future__ import annotations

import os

import pytest

from uds_pipelines.lib import connection
from uds_pipelines.lib.normalize import phone_table
from uds_pipelines.lib.normalize.phone_table import create_phone_table, normalize_pairs
from uds_pipelines_tests.lib.normalize.phone_table_helpers import normalize_or_die, process_of

# valid, national, international without "+", IDD 00, trunk (0), extension, placeholder, short,
# letters, blank, Unicode digits, and one number read against two regions
PAIRS = [
    ("(415) 555-0123", "US"), ("+44 (0)20 7946 0018", "US"), ("447400123456", "US"),
    ("0044 20 7946 0018", "US"), ("020 7946 0018", "GB"), ("020 7946 0018", "US"),
    ("+1 415 555 0123 ext. 12", "US"), ("000-000-0000", "US"), ("555-12", "US"), ("call me", "US"),
    ("   ", "US"), ("+４９ 1512 3375781", "DE"), ("06 12 18 60 99", "FR"), ("06 12 18 60 99", "DE"),
    ("tel:+81 90-1265-3897", "JP"), ("+1 (202) 555-0147", None),
]  # fmt: skip


def _values_sql() -> str:
    rows = ", ".join(
        "(" + ", ".join("NULL" if v is None else "'" + v.replace("'", "''") + "'" for v in pair) + ")"
        for pair in PAIRS
    )
    # every pair twice, and a NULL phone: the table holds each non-NULL pair once
    return f"SELECT * FROM (VALUES {rows}, {rows}, (NULL, 'US')) t(phone, region)"


@pytest.mark.parametrize("workers", [0, 2])
def test_each_pair_once_with_what_the_sql_functions_give(monkeypatch, workers) -> None:
    # small chunks and no minimum, so two workers each get several chunks of these few phones
    monkeypatch.setattr(phone_table, "MIN_PARALLEL", 1)
    monkeypatch.setattr(phone_table, "CHUNK", 3)
    con = connection.connect(default_region="US")
    assert create_phone_table(con, _values_sql(), "phones", "US", workers=workers) == len(PAIRS)
    got = con.execute("SELECT phone, region, e164, reason FROM phones ORDER BY phone, region").fetchall()
    want = con.execute(
        f"SELECT DISTINCT phone, region, uds_phone_e164(phone, region), uds_phone_reason(phone, region) "
        f"FROM ({_values_sql()}) WHERE phone IS NOT NULL ORDER BY phone, region"
    ).fetchall()
    assert got == want
    by_pair = {(p, r): (e, why) for p, r, e, why in got}
    assert by_pair[("020 7946 0018", "GB")] == ("+442079460018", None)
    assert by_pair[("020 7946 0018", "US")][0] is None  # a UK number is not a US one
    assert by_pair[("000-000-0000", "US")] == (None, "placeholder number")


def test_a_worker_that_dies_costs_only_a_redo_of_its_chunks_here(monkeypatch) -> None:
    monkeypatch.setattr(phone_table, "MIN_PARALLEL", 1)
    monkeypatch.setattr(phone_table, "CHUNK", 4)
    phones = [p for p, _ in PAIRS] + ["die"]
    regions = [r for _, r in PAIRS] + ["US"]
    here = normalize_pairs(phones, regions, "US", workers=0)
    assert normalize_pairs(phones, regions, "US", workers=2, task=normalize_or_die) == here
    assert here[0][0] == "+14155550123" and here[1][-1] == "not a number"


def test_many_phones_go_to_worker_processes_and_a_few_stay_here(monkeypatch) -> None:
    monkeypatch.setattr(phone_table, "CHUNK", 5)
    phones = [f"+1 415 555 {i:04d}" for i in range(40)]
    monkeypatch.setattr(phone_table, "MIN_PARALLEL", 41)
    _, where = normalize_pairs(phones, ["US"] * 40, "US", workers=2, task=process_of)
    assert set(where) == {str(os.getpid())}
    monkeypatch.setattr(phone_table, "MIN_PARALLEL", 40)
    _, where = normalize_pairs(phones, ["US"] * 40, "US", workers=2, task=process_of)
    # which worker takes which chunk is the pool's choice; none is done here
    assert str(os.getpid()) not in where and len(where) == 40
