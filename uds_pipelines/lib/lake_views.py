"""Catalog tables as DuckDB views, and writes checked against the catalog.

This is the seam between stage SQL and the engine. Stage code names tables (`FROM identity_map`)
and writes through `write_query` / `write_arrow`; only this module and `lake` know that a table is
Parquet files under a folder, read with `read_parquet`. Another engine (Spark SQL, see
docs/ARCHITECTURE.md) would replace `register` with its own temp views over the same paths, and
`write_query` with its own writer; the stage SQL stays as it is.

A view is the table's files (`union_by_name`, so batches written before a column was added read
as NULL there), with every column the catalog declares as `added` filled with its default when no
file has it yet, or a typed empty relation before anything was written, so a stage runs on an empty
lake. A view is bound when it is registered: a stage that writes a table refreshes its view
(`write_query` does), and a table another process writes in the meantime is seen by the next
connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from uds_pipelines.lib import catalog, lake, part_journal, storage
from uds_pipelines.lib.catalog import Table

# a keyed table's file from before it was keyed, as a part: it sorts before every part since
FORMER_PART = "part-00000000T000000000000Z-former.parquet"


class CatalogMismatch(RuntimeError):
    """A writer produced columns the catalog does not declare for the table (names, order or types)."""


def batches_sql(con: duckdb.DuckDBPyConnection, name: str, files: Sequence[Path]) -> str:
    """A SELECT of the catalog's columns, in order, over some batch files of folder table `name`
    (a column no file has reads as its `added` default, else NULL), or a typed empty relation when
    `files` is empty; `con` reads the files' footers."""
    table = catalog.table(name)
    if not files:
        return _empty_sql(table)
    source = lake.files_relation(files, union_by_name=True)
    present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}  # footers only
    defaults = dict(table.added)
    columns = ", ".join(
        column
        if column in present
        else f"CAST({defaults.get(column, 'NULL')} AS {catalog.duckdb_type(table.arrow_type(column))}) AS {column}"
        for column in table.columns
    )
    return f"SELECT {columns} FROM {source}"


def table_files(lake_dir: Path, name: str) -> list[Path]:
    """The batch files of folder table `name`, partition folders included."""
    table = catalog.table(name)
    location = catalog.path(lake_dir, name)
    _settle(lake_dir, table)
    if table.partitioned_by:
        return lake.partitioned_batch_files(location, table.partitioned_by)
    return lake.batch_files(location)


def _source(lake_dir: Path, table: Table) -> str | None:
    """The table's `read_parquet(...)`, or None when it has no file yet."""
    location = catalog.path(lake_dir, table.name)
    if table.kind == "file":
        return f"read_parquet('{lake.sql_path(location)}')" if location.exists() else None
    _settle(lake_dir, table)
    if table.partitioned_by:
        files = table_files(lake_dir, table.name)
        if not files:
            return None
        # A glob per partition folder: on object storage a `*/*` glob, or files listed by name,
        # cost a request per file, a one-level glob one listing per folder. The partition column
        # comes from the folder names, and a filter on it skips whole folders.
        folders = sorted({f.parent for f in files}, key=str)
        listed = ", ".join(f"'{lake.parquet_glob(folder)}'" for folder in folders)
        return (
            f"read_parquet([{listed}], union_by_name=true, hive_partitioning=true, "
            f"hive_types={{'{table.partitioned_by}': DATE}})"
        )
    if not lake.has_parquet(location):
        return None
    return f"read_parquet('{lake.parquet_glob(location)}', union_by_name=true)"


def _settle(lake_dir: Path, table: Table) -> None:
    """Before a keyed table (`keyed_parts`) is read: finish a change a crash interrupted, and move
    in its one file from before it was keyed (catalog `formerly`) as its oldest part. Readers do
    both, so that a lake reads the same before the table's owner step runs again; each is all or
    nothing, and a reader racing another finds nothing left to do."""
    if not table.key:
        return
    folder = catalog.path(lake_dir, table.name)
    part_journal.recover(folder)
    former = lake_dir / table.formerly if table.formerly else None
    if former is not None and former.exists():
        storage.make_private_dirs(folder)
        try:
            storage.rename(former, folder / FORMER_PART)
        except FileNotFoundError:  # another reader moved it first
            pass


def _empty_sql(table: Table) -> str:
    partition = f", CAST(NULL AS DATE) AS {table.partitioned_by}" if table.partitioned_by else ""
    return "SELECT " + _typed_nulls(table.schema) + partition + " WHERE false"


def _with_added(source: str, table: Table, present: set[str]) -> str:
    """SELECT over `source` with `, <default> AS <column>` for each added column not in `present`."""
    missing = "".join(
        f", CAST({default} AS {catalog.duckdb_type(table.arrow_type(name))}) AS {name}"
        for name, default in table.added
        if name not in present
    )
    return f"SELECT *{missing} FROM {source}"


def _typed_nulls(schema: pa.Schema) -> str:
    return ", ".join(f"CAST(NULL AS {catalog.duckdb_type(f.type)}) AS {f.name}" for f in schema)


def register(con: duckdb.DuckDBPyConnection, lake_dir: Path, names: Iterable[str] | None = None) -> None:
    """(Re)create the view of each named table (default: every catalog table) on `con`.

    Creating a view binds it: DuckDB reads the footers of the table's files. A table with added
    columns is bound once as it is, and its columns read from the view's definition; only when an
    added column is missing from every file is it bound again with the column filled in (a
    DESCRIBE first would bind it twice every time).
    """
    views = list(catalog.VIEWS) if names is None else [n for n in names if n in catalog.VIEWS]
    for name in catalog.TABLES if names is None else [n for n in names if n not in catalog.VIEWS]:
        table = catalog.table(name)
        source = _source(lake_dir, table)
        if source is None:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {_empty_sql(table)}")
            continue
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {source}")
        if table.added:
            present = _view_columns(con, name)
            if any(column not in present for column, _default in table.added):
                con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {_with_added(source, table, present)}")
    for name in views:  # views name tables only; DuckDB binds them at query time
        if names is not None:
            register(con, lake_dir, catalog.VIEW_TABLES[name])
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {catalog.VIEWS[name]}")


def _view_columns(con: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    """The columns temp view `name` was bound with (from the catalog: no file is read)."""
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = 'temp' AND table_name = ?", [name]
    ).fetchall()
    return {row[0] for row in rows}


def check_columns(table: Table, written: list[tuple[str, str]]) -> None:
    """Raise CatalogMismatch unless `written` ((name, DuckDB type) in order) is the table's schema.

    Columns with the table's `variable_prefix` may differ in names (they follow configuration)
    but must have the declared type.
    """
    prefix = table.variable_prefix
    declared = [(f.name, catalog.duckdb_type(f.type)) for f in table.schema]
    fixed = [c for c in written if not (prefix and c[0].startswith(prefix))]
    if table.open_columns:  # configured columns (computed traits) may come anywhere
        fixed = [c for c in fixed if c[0] in table.columns]
    expected = [c for c in declared if not (prefix and c[0].startswith(prefix))]
    problems = []
    if fixed != expected:
        problems.append(f"columns {fixed} but the catalog declares {expected}")
    if prefix:
        variable_type = next(t for n, t in declared if n.startswith(prefix))
        wrong = [c for c in written if c[0].startswith(prefix) and c[1] != variable_type]
        if wrong:
            problems.append(f"{prefix}* columns must be {variable_type}: {wrong}")
    if problems:
        raise CatalogMismatch(f"{table.name}: " + "; ".join(problems) + " (lib/catalog.py)")


def write_query(
    con: duckdb.DuckDBPyConnection,
    lake_dir: Path,
    name: str,
    sql: str,
    params=None,
    batch_name: str | None = None,
) -> int:
    """Write the result of `sql` as table `name` (a file table is replaced; a folder table gets the
    new batch file `batch_name`), after checking its columns against the catalog; returns the row
    count and refreshes the table's view on `con`."""
    table = catalog.table(name)
    described = con.execute(f"DESCRIBE {sql}", params or []).fetchall()
    check_columns(table, [(row[0], row[1]) for row in described])
    rows = lake.copy_query_to_parquet(con, sql, _target(lake_dir, table, batch_name), params)
    register(con, lake_dir, [name])
    return rows


def write_arrow(
    lake_dir: Path,
    name: str,
    data: pa.Table | pd.DataFrame,
    batch_name: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Path:
    """Write an Arrow table (or a frame, typed by the catalog) as table `name`; see `write_query`."""
    table = catalog.table(name)
    arrow = data if isinstance(data, pa.Table) else from_frame(name, data)
    check_columns(table, [(f.name, catalog.duckdb_type(f.type)) for f in arrow.schema])
    final = lake.write_parquet_atomic(arrow, _target(lake_dir, table, batch_name))
    if con is not None:
        register(con, lake_dir, [name])
    return final


def from_frame(name: str, frame: pd.DataFrame) -> pa.Table:
    """A frame as an Arrow table with the catalog's column types (an empty frame too)."""
    table = catalog.table(name)
    fields = [table.schema.field(c) if c in table.columns else None for c in frame.columns]
    if any(f is None for f in fields) or len(frame) == 0:
        return pa.Table.from_pandas(frame, preserve_index=False) if len(frame) else _empty_like(table, frame)
    return pa.Table.from_pandas(frame, schema=pa.schema(fields), preserve_index=False)


def _empty_like(table: Table, frame: pd.DataFrame) -> pa.Table:
    if list(frame.columns) in ([], list(table.columns)):
        return table.empty()
    return pa.Table.from_pandas(frame, preserve_index=False)


def row_count(lake_dir: Path, name: str) -> int:
    """Rows of a table, from Parquet footers: the file, or every batch of a folder table (0 before
    anything is written)."""
    location = catalog.path(lake_dir, name)
    if catalog.table(name).kind == "file":
        return lake.parquet_row_count(location)
    return sum(lake.parquet_row_count(path) for path in table_files(lake_dir, name))


def _target(lake_dir: Path, table: Table, batch_name: str | None) -> Path:
    location = catalog.path(lake_dir, table.name)
    if table.kind == "file":
        if batch_name is not None:
            raise ValueError(f"{table.name} is one file; it takes no batch name")
        return location
    if batch_name is None:
        raise ValueError(f"{table.name} is a folder of batches; name the batch file")
    return location / batch_name
