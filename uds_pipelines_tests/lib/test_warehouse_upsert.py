"""Keyed warehouse tables: upserts by primary key on SQLite and PostgreSQL (fixture `warehouse_url`),
natively (INSERT ... ON CONFLICT) and through the portable delete+insert path."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import sqlalchemy as sa

from uds_pipelines.lib import catalog
from uds_pipelines.lib.warehouse import (
    META_TABLE,
    UPDATED_AT,
    WAREHOUSE_TABLES,
    WarehouseError,
    WarehouseTable,
    publish_tables,
    read_table,
    upsert_tables,
)

SPECS = {
    "people": WarehouseTable("people", "people", ("customer_id",), "test"),
    "stays": WarehouseTable("stays", "stays", ("segment", "customer_id"), "test"),
    "daily": WarehouseTable(
        "daily", "daily", ("day", "kpi", "currency"), "test", replace_within=("day",), per_person=False
    ),
}
T = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3, 4)]


def _people(ids, values, seen=None) -> pa.Table:
    return pa.table(
        {
            "customer_id": pa.array(ids, pa.string()),
            "value": pa.array(values, pa.float64()),
            "seen_at": pa.array(seen or [T[0]] * len(ids), pa.timestamp("us", tz="UTC")),
        }
    )


def _rows(url: str, name: str) -> dict:
    frame = read_table(url, name)
    return {r["customer_id"]: r for r in frame.to_dict("records")}


def _stamp(value) -> str:
    return str(value)[:19]  # SQLite text and PostgreSQL timestamps compared to the second


@pytest.mark.parametrize("generic", [False, True], ids=["on_conflict", "generic"])
def test_insert_update_delete_by_key_and_rerun_changes_nothing(warehouse_url, generic):
    url = warehouse_url
    first = upsert_tables(
        url, {"people": _people(["a", "b", "c"], [1.0, 2.0, None])}, SPECS, T[0], generic=generic
    )
    assert (first["people"].inserted, first["people"].rebuilt) == (3, True)
    again = upsert_tables(
        url, {"people": _people(["a", "b", "c"], [1.0, 2.0, None])}, SPECS, T[1], generic=generic
    )
    assert (again["people"].inserted, again["people"].updated, again["people"].deleted) == (0, 0, 0)
    assert not again["people"].rebuilt
    assert {k: _stamp(r[UPDATED_AT]) for k, r in _rows(url, "people").items()} == dict.fromkeys(
        "abc", "2026-01-01 00:00:00"
    )
    # b changes, c gains a value (NULL -> 3 is a change), a leaves, d is new
    third = upsert_tables(
        url, {"people": _people(["b", "c", "d"], [2.5, 3.0, 4.0])}, SPECS, T[2], generic=generic
    )
    counts = third["people"]
    assert (counts.rows, counts.inserted, counts.updated, counts.deleted) == (3, 1, 2, 1)
    rows = _rows(url, "people")
    assert sorted(rows) == ["b", "c", "d"]
    assert rows["b"]["value"] == 2.5 and rows["c"]["value"] == 3.0
    assert {k: _stamp(r[UPDATED_AT]) for k, r in rows.items()} == dict.fromkeys("bcd", "2026-01-03 00:00:00")
    # a value going back to NULL is a change too
    fourth = upsert_tables(
        url, {"people": _people(["b", "c", "d"], [2.5, None, 4.0])}, SPECS, T[3], generic=generic
    )
    assert (fourth["people"].updated, fourth["people"].inserted, fourth["people"].deleted) == (1, 0, 0)
    assert _stamp(_rows(url, "people")["c"][UPDATED_AT]) == "2026-01-04 00:00:00"
    assert _stamp(_rows(url, "people")["b"][UPDATED_AT]) == "2026-01-03 00:00:00"


def test_primary_key_and_layout_are_declared_in_the_database(warehouse_url):
    upsert_tables(warehouse_url, {"stays": pa.table({"segment": ["s"], "customer_id": ["a"]})}, SPECS)
    engine = sa.create_engine(warehouse_url)
    try:
        inspector = sa.inspect(engine)
        assert inspector.get_pk_constraint("stays")["constrained_columns"] == ["segment", "customer_id"]
        assert [c["name"] for c in inspector.get_columns("stays")] == ["segment", "customer_id", UPDATED_AT]
        assert not [n for n in inspector.get_table_names() if n.endswith("__staging")]
    finally:
        engine.dispose()
    meta = read_table(warehouse_url, META_TABLE)
    assert meta[meta["table_name"] == "stays"]["key_columns"].tolist() == ["segment,customer_id"]


def test_duplicate_or_null_keys_fail_and_keep_the_table(warehouse_url):
    upsert_tables(warehouse_url, {"people": _people(["a", "b"], [1.0, 2.0])}, SPECS, T[0])
    for ids in (["secret@example.com", "secret@example.com"], ["x", None]):
        with pytest.raises(WarehouseError) as info:
            upsert_tables(warehouse_url, {"people": _people(ids, [5.0, 6.0])}, SPECS, T[1])
        assert "secret" not in str(info.value)  # counts only, never key values
    assert sorted(_rows(warehouse_url, "people")) == ["a", "b"]
    # a failing table does not hold back the others, and the error names it
    with pytest.raises(WarehouseError, match="people") as info:
        upsert_tables(
            warehouse_url,
            {
                "people": _people(["z", "z"], [1.0, 1.0]),
                "stays": pa.table({"segment": ["s"], "customer_id": ["q"]}),
            },
            SPECS,
        )
    assert "stays" not in str(info.value)
    assert read_table(warehouse_url, "stays")["customer_id"].tolist() == ["q"]
    assert sorted(_rows(warehouse_url, "people")) == ["a", "b"]
    with pytest.raises(ValueError, match="no key column"):
        upsert_tables(warehouse_url, {"people": pa.table({"id": ["a"]})}, SPECS)
    with pytest.raises(ValueError, match="no warehouse declaration"):
        upsert_tables(warehouse_url, {"unknown": pa.table({"id": ["a"]})}, SPECS)


def test_a_new_column_rebuilds_the_table_with_every_row(warehouse_url):
    upsert_tables(warehouse_url, {"people": _people(["a", "b"], [1.0, 2.0])}, SPECS, T[0])
    wider = _people(["a", "b"], [1.0, 2.0]).append_column("currency", pa.array(["usd", "jpy"]))
    counts = upsert_tables(warehouse_url, {"people": wider}, SPECS, T[1])["people"]
    assert counts.rebuilt and counts.inserted == 2
    rows = _rows(warehouse_url, "people")
    assert rows["b"]["currency"] == "jpy" and _stamp(rows["b"][UPDATED_AT]) == "2026-01-02 00:00:00"
    assert not upsert_tables(warehouse_url, {"people": wider}, SPECS, T[2])["people"].rebuilt


def test_an_unkeyed_table_published_before_is_replaced_by_the_keyed_one(warehouse_url):
    publish_tables(warehouse_url, {"people": _people(["a", "a"], [1.0, 1.0])})  # the old whole-table publish
    counts = upsert_tables(warehouse_url, {"people": _people(["a", "b"], [1.0, 2.0])}, SPECS, T[1])["people"]
    assert counts.rebuilt and sorted(_rows(warehouse_url, "people")) == ["a", "b"]


def test_history_rows_are_replaced_only_within_the_days_published(warehouse_url):
    def day(d: date, kpis: dict) -> pa.Table:
        return pa.table(
            {
                "day": pa.array([d] * len(kpis), pa.date32()),
                "kpi": [k for k, _ in kpis],
                "currency": [c for _, c in kpis],
                "value": pa.array(list(kpis.values()), pa.float64()),
            }
        )

    upsert_tables(
        warehouse_url, {"daily": day(date(2026, 1, 1), {("customers", ""): 5, ("ltv", ""): 9})}, SPECS
    )
    counts = upsert_tables(
        warehouse_url, {"daily": day(date(2026, 1, 2), {("customers", ""): 6, ("ltv", "USD"): 7})}, SPECS
    )["daily"]
    assert (counts.inserted, counts.deleted) == (2, 0)  # the first day stays
    # the same day again without ('ltv', 'USD'): that row goes, the other day's rows stay
    counts = upsert_tables(warehouse_url, {"daily": day(date(2026, 1, 2), {("customers", ""): 6})}, SPECS)[
        "daily"
    ]
    assert counts.deleted == 1
    frame = read_table(warehouse_url, "daily")
    assert sorted(zip(frame["day"].astype(str).str[:10], frame["kpi"], frame["currency"], strict=True)) == [
        ("2026-01-01", "customers", ""),
        ("2026-01-01", "ltv", ""),
        ("2026-01-02", "customers", ""),
    ]


def test_an_empty_source_empties_the_table(warehouse_url):
    upsert_tables(warehouse_url, {"people": _people(["a", "b"], [1.0, 2.0])}, SPECS)
    assert upsert_tables(warehouse_url, {"people": _people([], [])}, SPECS)["people"].deleted == 2
    assert read_table(warehouse_url, "people").empty


def test_every_per_person_table_is_keyed_and_erasable_by_customer_id():
    for spec in WAREHOUSE_TABLES.values():
        assert spec.keys, spec.name
        if spec.per_person:
            # erase_warehouse deletes rows by their customer_id column
            source = catalog.table(spec.source)
            assert "customer_id" in source.columns and set(spec.keys) <= set(source.columns), spec.name
        elif spec.source in catalog.TABLES:  # aggregates: nobody's rows
            assert "customer_id" not in catalog.table(spec.source).columns, spec.name


def test_hundred_thousand_rows_upsert_and_rerun_in_seconds(warehouse_url):
    url = warehouse_url
    n = 100_000
    ids = [f"c{i:07d}" for i in range(n)]
    values = np.arange(n, dtype=float)
    started = time.perf_counter()
    assert upsert_tables(url, {"people": _people(ids, values)}, SPECS, T[0])["people"].inserted == n
    first = time.perf_counter() - started
    values[::100] += 1  # 1% of the rows change, 1% leave and 1% arrive
    changed = _people(ids[1_000:] + [f"n{i:07d}" for i in range(1_000)], list(values[1_000:]) + [0.0] * 1_000)
    started = time.perf_counter()
    counts = upsert_tables(url, {"people": changed}, SPECS, T[1])["people"]
    second = time.perf_counter() - started
    print(f"100k rows on {url.split(':')[0]}: first upsert {first:.2f}s, 1% changed {second:.2f}s")
    assert (counts.inserted, counts.updated, counts.deleted) == (1_000, 990, 1_000)
    assert first < 15 and second < 15


def test_docs_describe_every_table_and_its_key():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "warehouse.md").read_text()
    for spec in WAREHOUSE_TABLES.values():
        heading = f"### `{spec.name}` — key ({', '.join(f'`{k}`' for k in spec.keys)})"
        assert heading in doc, heading
        for key in spec.keys:
            assert f"| `{key}` |" in doc.split(heading, 1)[1].split("\n### ", 1)[0], (spec.name, key)
