"""Warehouse publishing on SQLite (always) and PostgreSQL (when UDS_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from uds_pipelines.lib.warehouse import WarehouseError, publish_tables, read_table

POSTGRES_URL = os.environ.get("UDS_TEST_POSTGRES_URL")


def _profiles(n: int, tag: str = "a") -> pd.DataFrame:
    ids = np.arange(n)
    return pd.DataFrame(
        {
            "customer_id": [f"{tag}{i:07d}" for i in ids],
            "email": [f"user{i}@example.com" for i in ids],
            "lifetime_value": np.where(ids % 7 == 0, np.nan, ids * 1.5),
            "orders_count": ids % 5,
            "consent_email_marketing": ids % 2 == 0,
            "first_seen_at": pd.Timestamp("2025-01-01T00:00:00Z") + pd.to_timedelta(ids, unit="s"),
            "nps_latest": pd.array([None if i % 3 else i % 11 for i in ids], dtype="Int64"),
        }
    )


def _check_roundtrip(url: str) -> None:
    frame = _profiles(2_500)
    members = pa.table(
        {
            "audience": ["x", "x"],
            "customer_id": ["a0000001", "a0000002"],
            "tags": [["a", "b"], None],
            "note": ["", None],
            "text": ['a,"b"\nc', "=1"],
        }
    )
    counts = publish_tables(url, {"customer_profiles": frame, "audience_members": members})
    assert counts == {"customer_profiles": 2_500, "audience_members": 2}
    back = read_table(url, "customer_profiles").sort_values("customer_id").reset_index(drop=True)
    assert back["customer_id"].tolist() == frame["customer_id"].tolist()
    assert back["lifetime_value"].isna().sum() == frame["lifetime_value"].isna().sum()
    assert back["orders_count"].sum() == frame["orders_count"].sum()
    assert back["consent_email_marketing"].astype(bool).sum() == frame["consent_email_marketing"].sum()
    first = pd.to_datetime(back["first_seen_at"].iloc[10], utc=True)
    assert first == pd.Timestamp("2025-01-01T00:00:10Z")
    assert back["nps_latest"].isna().sum() == frame["nps_latest"].isna().sum()
    published = read_table(url, "audience_members").sort_values("customer_id")
    assert published["tags"].tolist()[0] == '["a", "b"]'
    # Empty string and NULL stay distinct; quotes, commas and newlines survive.
    assert published["note"].tolist()[0] == "" and published["note"].isna().tolist() == [False, True]
    assert published["text"].tolist() == ['a,"b"\nc', "=1"]
    # Republishing replaces, never appends; no staging tables are left behind.
    assert publish_tables(url, {"customer_profiles": frame.head(10)}) == {"customer_profiles": 10}
    assert len(read_table(url, "customer_profiles")) == 10
    engine = sa.create_engine(url)
    try:
        names = sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
    assert not [n for n in names if n.endswith("__staging")]
    assert {"customer_profiles", "audience_members"} <= set(names)


def test_publish_sqlite_roundtrip(tmp_path):
    _check_roundtrip(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")


def test_publish_postgres_roundtrip():
    if not POSTGRES_URL:
        print("UDS_TEST_POSTGRES_URL is not set: PostgreSQL publishing not tested")
        pytest.skip("UDS_TEST_POSTGRES_URL is not set")
    _check_roundtrip(POSTGRES_URL)


def test_failed_publish_keeps_previous_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    publish_tables(url, {"customer_profiles": _profiles(5)})
    # A value the driver cannot bind fails the staging load; the old table must stay as it was.
    bad = pd.DataFrame({"customer_id": ["x"], "blob": [b"\x00\x01"]}).astype({"blob": object})
    bad["blob"] = [object()]
    with pytest.raises((WarehouseError, pa.ArrowException)) as info:
        publish_tables(url, {"customer_profiles": bad})
    assert "user" not in str(info.value)
    assert len(read_table(url, "customer_profiles")) == 5
    with pytest.raises(ValueError):
        publish_tables(url, {"bad name; drop": _profiles(1)})


def test_hundred_thousand_rows_in_seconds(tmp_path):
    url = f"sqlite:///{tmp_path / 'big.sqlite'}"
    frame = _profiles(100_000)
    started = time.perf_counter()
    assert publish_tables(url, {"customer_profiles": frame}) == {"customer_profiles": 100_000}
    elapsed = time.perf_counter() - started
    print(f"published 100k rows to SQLite in {elapsed:.2f}s")
    assert elapsed < 10


def test_concurrent_reader_sees_old_or_new_full_table(tmp_path):
    path = tmp_path / "w.sqlite"
    url = f"sqlite:///{path}"
    sizes = (3_000, 7_000)
    publish_tables(url, {"customer_profiles": _profiles(sizes[0], "o")})
    seen: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        con = sqlite3.connect(path, timeout=60)
        try:
            while not stop.is_set():
                try:
                    seen.append(con.execute("SELECT count(*) FROM customer_profiles").fetchall()[0][0])
                except sqlite3.Error as exc:
                    errors.append(str(exc))
        finally:
            con.close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for run in range(6):
            n = sizes[(run + 1) % 2]
            publish_tables(url, {"customer_profiles": _profiles(n, uuid.uuid4().hex[:2])})
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert len(seen) > 10
    assert set(seen) <= set(sizes)
    assert set(seen) == set(sizes)


def test_empty_and_typed_arrow_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'e.sqlite'}"
    empty = pa.table(
        {"audience": pa.array([], pa.string()), "exported_at": pa.array([], pa.timestamp("us", tz="UTC"))}
    )
    assert publish_tables(url, {"audience_members": empty}) == {"audience_members": 0}
    assert list(read_table(url, "audience_members").columns) == ["audience", "exported_at"]
    when = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    table = pa.table({"k": pa.array(["a"]).dictionary_encode(), "at": pa.array([when])})
    publish_tables(url, {"t": table})
    assert read_table(url, "t")["k"].tolist() == ["a"]
