"""Keyed state tables as folders of parts: a merge rewrites only the parts that hold the keys it changes.

A keyed table (catalog `key`: the rows of a key are replaced together, e.g. one Stripe object) used
to be one file, rewritten whole by every merge that changed a row of it: a delivery of 1,000 Stripe
events on a 10M-event lake rewrote about 900 MB of staging files. A merge now

1. writes the changed rows as a new part (`part-<UTC time>-<random>.parquet`: parts sort in the
   order they were written, so older objects sit in older parts),
2. rewrites, each under its own name, the parts that held one of the changed keys, without those
   rows (a part left with no row is deleted), and
3. compacts when the folder has more than `MAX_PARTS` parts: the parts under `SMALL_PART_ROWS` rows
   become one.

Each of these changes is all or nothing (`part_journal`): a reader, and the replay of a merge after
a crash, sees every key in exactly one part, as it did when the table was one file replaced at once.
A table written before it was keyed (one file at the catalog's `formerly` path) becomes its oldest
part the first time it is listed (`lake_views`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, lake, lake_views, part_journal, storage

MAX_PARTS = 24
SMALL_PART_ROWS = 250_000
_TOUCHED = "_keyed_touched"


def new_part_name() -> str:
    return f"part-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.parquet"


def replace_rows(con: duckdb.DuckDBPyConnection, lake_dir: Path, name: str, touched: str, fresh: str) -> None:
    """Replace the rows of keyed table `name` whose key is in `touched` (a SELECT of the key columns)
    with the rows of `fresh` (a SELECT of the table's columns), as one change; refreshes the view."""
    key = ", ".join(catalog.table(name).key)
    folder = catalog.path(lake_dir, name)
    part_journal.recover(folder, drop_uncommitted=True)  # a crashed merge's, committed or not
    holding = lake_views.table_files(lake_dir, name)
    storage.make_private_dirs(folder)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_TOUCHED} AS SELECT DISTINCT {key} FROM ({touched})")
    written, deleted = [], []
    try:
        for part in _parts_holding(con, holding, key):
            kept = f"SELECT * FROM ({lake_views.batches_sql(con, name, [part])}) ANTI JOIN {_TOUCHED} USING ({key})"
            if has_rows(con, kept):
                _write_pending(con, lake_dir, name, kept, part.name)
                written.append(part.name)
            else:
                deleted.append(part.name)
        if has_rows(con, fresh):
            written.append(_write_pending(con, lake_dir, name, fresh, new_part_name()))
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_TOUCHED}")
    part_journal.commit(folder, written, deleted)
    compact(con, lake_dir, name)
    lake_views.register(con, lake_dir, [name])


def _parts_holding(con: duckdb.DuckDBPyConnection, parts: list[Path], key: str) -> list[Path]:
    """The parts with a row of a touched key: one pass over the parts' key columns."""
    if not parts or not has_rows(con, f"FROM {_TOUCHED}"):
        return []
    found = con.execute(
        f"SELECT DISTINCT filename FROM {lake.files_relation(parts, union_by_name=True, filename=True)} "
        f"SEMI JOIN {_TOUCHED} USING ({key})"
    ).fetchall()
    by_name = {str(p): p for p in parts}  # DuckDB gives each file's name as it was listed
    return sorted(by_name[row[0]] for row in found)


def _write_pending(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, name: str, sql: str, final_name: str
) -> str:
    lake_views.write_query(con, lake_dir, name, sql, batch_name=part_journal.pending_name(final_name))
    return final_name


def compact(con: duckdb.DuckDBPyConnection, lake_dir: Path, name: str) -> None:
    """Past `MAX_PARTS` parts, merge the small ones (under `SMALL_PART_ROWS` rows) into one part
    that takes the oldest one's time, so that parts keep sorting in the order their rows came."""
    parts = lake_views.table_files(lake_dir, name)
    if len(parts) <= MAX_PARTS:
        return
    small = [p for p in parts if lake.parquet_row_count(p) < SMALL_PART_ROWS]
    if len(small) < 2:
        return
    written_at = small[0].name.split("-")[1]  # part-<time>-<random>.parquet
    merged = f"part-{written_at}-{uuid.uuid4().hex[:8]}.parquet"
    _write_pending(con, lake_dir, name, lake_views.batches_sql(con, name, small), merged)
    part_journal.commit(catalog.path(lake_dir, name), [merged], [p.name for p in small])


def has_rows(con: duckdb.DuckDBPyConnection, query: str) -> bool:
    """Whether `query` (a SELECT or a `FROM ...`) returns a row, without counting them."""
    return bool(con.execute(f"SELECT EXISTS ({query})").fetchone()[0])
