"""Keyed state tables as folders of parts: only the parts holding changed keys are rewritten, every
change is all or nothing, and a table from before keyed parts reads the same."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from uds_pipelines.lib import catalog, keyed_parts, lake, lake_views, part_journal, storage

TABLE = "stripe_refunds"  # key: refund_id


def refunds(ids: list[str], amount: int) -> str:
    rows = ", ".join(
        f"('{i}', 'ch_{i}', {amount}, 'usd', 'succeeded', TIMESTAMPTZ '2026-01-01')" for i in ids
    )
    rows = rows or "(NULL, NULL, NULL, NULL, NULL, NULL) LIMIT 0"
    return (
        "SELECT refund_id, charge_id, amount::BIGINT AS amount, currency, status, created "
        f"FROM (SELECT * FROM (VALUES {rows}) t(refund_id, charge_id, amount, currency, status, created))"
    )


def merge(con, lake_dir: Path, ids: list[str], amount: int) -> None:
    fresh = refunds(ids, amount)
    keyed_parts.replace_rows(con, lake_dir, TABLE, f"SELECT refund_id FROM ({fresh})", fresh)


def rows(lake_dir: Path) -> list[tuple]:
    con = duckdb.connect()
    lake_views.register(con, lake_dir, [TABLE])
    return con.execute(f"SELECT refund_id, amount FROM {TABLE} ORDER BY 1").fetchall()


def parts(lake_dir: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in lake_views.table_files(lake_dir, TABLE)}


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_new_keys_add_a_part_and_changed_keys_rewrite_only_their_parts(tmp_path, con):
    lake_dir = tmp_path / "lake"
    merge(con, lake_dir, ["a", "b"], 1)
    merge(con, lake_dir, ["c", "d"], 2)
    merge(con, lake_dir, ["e"], 3)
    first, second, third = sorted(before := parts(lake_dir))
    merge(con, lake_dir, ["c", "e"], 9)  # c is in the second part; e is the third's only row
    after = parts(lake_dir)
    assert after[first] == before[first]
    assert after[second] != before[second]  # rewritten under its name, without c
    assert third not in after  # left empty: deleted
    assert len(after) == 3
    assert rows(lake_dir) == [("a", 1), ("b", 1), ("c", 9), ("d", 2), ("e", 9)]
    merge(con, lake_dir, [], 0)  # nothing changed: nothing written
    assert parts(lake_dir) == after


def test_small_parts_are_compacted_past_the_part_limit(tmp_path, con, monkeypatch):
    monkeypatch.setattr(keyed_parts, "MAX_PARTS", 3)
    lake_dir = tmp_path / "lake"
    for n in range(6):
        merge(con, lake_dir, [f"r{n}"], n)
        assert len(parts(lake_dir)) <= 3
    assert rows(lake_dir) == [(f"r{n}", n) for n in range(6)]
    # merged parts are named like any other (a name does not grow with each compaction)
    assert all(re.fullmatch(r"part-\d{8}T\d{12}Z-[0-9a-f]{8}\.parquet", name) for name in parts(lake_dir))
    monkeypatch.setattr(keyed_parts, "SMALL_PART_ROWS", 1)  # no part is small: none is merged
    for n in range(6, 9):
        merge(con, lake_dir, [f"r{n}"], n)
    assert len(parts(lake_dir)) > 3


def test_a_crash_after_the_commit_is_finished_by_the_next_reader(tmp_path, con, monkeypatch):
    lake_dir = tmp_path / "lake"
    merge(con, lake_dir, ["a", "b"], 1)
    merge(con, lake_dir, ["c"], 2)
    real_rename, calls = storage.rename, []

    def rename_once_then_die(src, dst):
        calls.append(dst)
        if len(calls) > 1:
            raise KeyboardInterrupt("killed")
        real_rename(src, dst)

    monkeypatch.setattr(storage, "rename", rename_once_then_die)
    with pytest.raises(KeyboardInterrupt):
        merge(con, lake_dir, ["a", "c", "z"], 7)  # two parts rewritten and a new one: three renames
    monkeypatch.undo()
    folder = catalog.path(lake_dir, TABLE)
    assert (folder / part_journal.JOURNAL).exists()
    assert rows(lake_dir) == [("a", 7), ("b", 1), ("c", 7), ("z", 7)]  # every key once
    assert not (folder / part_journal.JOURNAL).exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_a_crash_before_the_commit_leaves_the_old_rows_and_its_files_go(tmp_path, con, monkeypatch):
    lake_dir = tmp_path / "lake"
    merge(con, lake_dir, ["a", "b"], 1)
    monkeypatch.setattr(part_journal, "commit", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        merge(con, lake_dir, ["a", "z"], 7)
    monkeypatch.undo()
    folder = catalog.path(lake_dir, TABLE)
    pending = [p for p in folder.iterdir() if p.name.endswith(part_journal.PENDING_SUFFIX)]
    assert len(pending) == 2  # the rewrite of the old part and the new part, both unseen
    assert rows(lake_dir) == [("a", 1), ("b", 1)]
    merge(con, lake_dir, ["a", "z"], 7)  # the replay
    assert rows(lake_dir) == [("a", 7), ("b", 1), ("z", 7)]
    assert not [p for p in pending if p.exists()]


def test_the_file_from_before_keyed_parts_becomes_the_oldest_part(tmp_path, con):
    lake_dir = tmp_path / "lake"
    former = lake_dir / catalog.table(TABLE).formerly
    former.parent.mkdir(parents=True)
    con.execute(f"COPY ({refunds(['a', 'b'], 1)}) TO '{lake.sql_path(former)}' (FORMAT parquet)")
    assert rows(lake_dir) == [("a", 1), ("b", 1)]  # a reader moves it in
    assert not former.exists()
    assert list(parts(lake_dir)) == [lake_views.FORMER_PART]
    merge(con, lake_dir, ["b"], 5)
    oldest = sorted(parts(lake_dir))[0]
    assert oldest == lake_views.FORMER_PART  # new parts sort after it
    assert rows(lake_dir) == [("a", 1), ("b", 5)]


def test_a_part_written_before_a_column_was_added_is_rewritten_with_its_default(tmp_path, con):
    lake_dir = tmp_path / "lake"
    folder = catalog.path(lake_dir, "stripe_subscriptions")
    folder.mkdir(parents=True)
    old = pd.DataFrame(
        {
            "subscription_id": ["s1", "s2"],
            "customer_id": ["c1", "c2"],
            "status": ["active", "active"],
            "currency": ["usd", "usd"],
            "mrr_minor": [100, 200],
            "created": pd.to_datetime(["2025-01-01", "2025-02-01"], utc=True),
            "canceled_at": pd.to_datetime([None, None], utc=True),
        }
    )
    lake.write_parquet_atomic(old, folder / "part-20250101T000000000000Z-old.parquet")  # no `plan`
    lake_views.register(con, lake_dir, ["stripe_subscriptions"])
    fresh = "SELECT * REPLACE ('canceled' AS status, 'pro' AS plan) FROM stripe_subscriptions WHERE subscription_id = 's1'"
    con.execute(f"CREATE TEMP TABLE f AS {fresh}")
    keyed_parts.replace_rows(
        con, lake_dir, "stripe_subscriptions", "SELECT subscription_id FROM f", "SELECT * FROM f"
    )
    found = con.execute(
        "SELECT subscription_id, status, plan FROM stripe_subscriptions ORDER BY 1"
    ).fetchall()
    assert found == [("s1", "canceled", "pro"), ("s2", "active", None)]


def test_a_lake_path_with_a_quote_finds_its_parts(tmp_path, con):
    lake_dir = tmp_path / "o'brien" / "lake"
    merge(con, lake_dir, ["a", "b"], 1)
    merge(con, lake_dir, ["b"], 2)
    assert rows(lake_dir) == [("a", 1), ("b", 2)]


def test_a_reader_that_finds_the_change_already_finished_goes_on(tmp_path, con, monkeypatch):
    lake_dir = tmp_path / "lake"
    merge(con, lake_dir, ["a"], 1)
    folder = catalog.path(lake_dir, TABLE)
    listed = part_journal._names(folder)
    # listed while another reader was finishing: the journal is named, then gone when read
    monkeypatch.setattr(part_journal, "_names", lambda f: [*listed, part_journal.JOURNAL])
    part_journal.recover(folder)
    monkeypatch.undo()
    assert rows(lake_dir) == [("a", 1)]


def _as_if_dead(folder: Path) -> list[Path]:
    """Give this process's pending files the name a killed writer's would have (a PID that is gone)."""
    moved = []
    for path in folder.iterdir():
        if path.name.endswith(part_journal.PENDING_SUFFIX):
            dead = re.sub(r"-\d+\.pending$", "-999999999.pending", path.name)
            path.rename(folder / dead)
            moved.append(folder / dead)
    return moved


def test_the_sweep_removes_a_killed_writers_uncommitted_parts_but_not_committed_ones(tmp_path, con, monkeypatch):
    """An uncommitted pending part holds personal data in clear: the erasure's sweep of stale temp
    files must reach it once its writer is dead, but never a pending part a journal vouches for."""
    lake_dir = tmp_path / "lake"
    folder = catalog.path(lake_dir, TABLE)
    merge(con, lake_dir, ["a", "b"], 1)
    monkeypatch.setattr(part_journal, "commit", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        merge(con, lake_dir, ["a", "z"], 7)
    monkeypatch.undo()
    uncommitted = _as_if_dead(folder)
    assert len(uncommitted) == 2
    swept = lake.sweep_stale_temps_under(lake_dir)
    assert sorted(uncommitted) == sorted(p for p in swept if p.parent == folder)
    assert rows(lake_dir) == [("a", 1), ("b", 1)]

    real_rename = storage.rename
    monkeypatch.setattr(storage, "rename", lambda src, dst: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        merge(con, lake_dir, ["a", "z"], 7)  # committed: the journal lists its pending parts
    monkeypatch.setattr(storage, "rename", real_rename)
    committed = _as_if_dead(folder)
    journal = (folder / part_journal.JOURNAL).read_text()
    (folder / part_journal.JOURNAL).write_text(re.sub(r"-\d+\.pending", "-999999999.pending", journal))
    assert not [p for p in lake.sweep_stale_temps_under(lake_dir) if p.parent == folder]
    assert all(p.exists() for p in committed)
    assert rows(lake_dir) == [("a", 7), ("b", 1), ("z", 7)]  # the next reader finishes the change


def test_a_change_whose_new_part_is_gone_deletes_nothing(tmp_path):
    """A pending part removed before the commit (a sweep that took a live writer for a dead one)
    must not let the change delete the part it was to replace: the commit refuses, and a journal
    that lists a part neither pending nor in place deletes nothing."""
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "old.parquet").write_text("old rows")
    with pytest.raises(RuntimeError, match="pending parts missing"):
        part_journal.commit(folder, ["new.parquet"], ["old.parquet"])
    (folder / part_journal.JOURNAL).write_text('{"written": [["new.parquet", ".new.parquet.x-1.pending"]], '
                                               '"deleted": ["old.parquet"]}')  # fmt: skip
    part_journal.recover(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["old.parquet"]
