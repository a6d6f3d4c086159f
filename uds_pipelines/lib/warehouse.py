"""Publish tables to the SQL warehouse so readers see the old table or the new one, never half of one."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from uds_pipelines.lib import storage

STAGING_SUFFIX = "__staging"
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,50}$")


class WarehouseError(RuntimeError):
    """Publishing failed; the previously published tables are untouched."""


def make_engine(url: str) -> Engine:
    """An engine whose transactions also cover DDL, which publishing relies on.

    Python's sqlite3 driver does not open a transaction before DDL, so a DROP + RENAME would
    commit one statement at a time; taking over BEGIN makes them one transaction. WAL lets
    readers keep reading the old table while a publish is in progress.
    """
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    _make_sqlite_file_private(url)
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _make_sqlite_file_private(url: str) -> None:
    """Create the SQLite file with `storage.file_mode()` (0600) before SQLite opens it, or close an
    existing one; SQLite gives its -wal, -shm and journal files the database file's mode."""
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    mode = storage.file_mode()
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode))
        os.chmod(path, mode)  # os.open's mode is masked by the umask
    except FileExistsError:
        storage.restrict_mode(path, mode)
    except FileNotFoundError:
        pass  # no such folder: SQLite reports it when it opens the file


def _column_type(arrow_type: pa.DataType) -> sa.types.TypeEngine:
    if pa.types.is_boolean(arrow_type):
        return sa.Boolean()
    if pa.types.is_integer(arrow_type):
        return sa.BigInteger()
    if pa.types.is_floating(arrow_type):
        return sa.Float(precision=53)
    if pa.types.is_decimal(arrow_type):
        return sa.Numeric(arrow_type.precision, arrow_type.scale)
    if pa.types.is_timestamp(arrow_type):
        return sa.DateTime(timezone=arrow_type.tz is not None)
    if pa.types.is_date(arrow_type):
        return sa.Date()
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return sa.LargeBinary()
    return sa.Text()


def _prepare(data: pa.Table | pd.DataFrame) -> pa.Table:
    """Arrow with driver-friendly columns: dictionaries decoded, ns timestamps to us, nested as JSON."""
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    for index, field in enumerate(table.schema):
        column = table.column(index)
        kind = field.type
        if pa.types.is_dictionary(kind):
            column, kind = column.cast(kind.value_type), kind.value_type
        if pa.types.is_timestamp(kind) and kind.unit == "ns":
            column = pc.cast(column, pa.timestamp("us", tz=kind.tz), safe=False)
        elif pa.types.is_nested(kind) or pa.types.is_null(kind):
            values = [None if v is None else json.dumps(v, default=str) for v in column.to_pylist()]
            column = pa.array(values, pa.string())
        elif pa.types.is_time(kind) or pa.types.is_duration(kind):
            column = pc.cast(column, pa.string())
        table = table.set_column(index, field.name, column)
    return table


def _stage(engine: Engine, name: str, table: pa.Table, batch_rows: int) -> int:
    metadata = sa.MetaData()
    staged = sa.Table(
        name + STAGING_SUFFIX,
        metadata,
        *(sa.Column(f.name, _column_type(f.type), nullable=True) for f in table.schema),
    )
    with engine.begin() as conn:
        staged.drop(conn, checkfirst=True)
        staged.create(conn)
    rows = 0
    if engine.dialect.name == "sqlite":
        # Driver-level executemany over tuples is several times faster than Core's dict rows.
        quote = engine.dialect.identifier_preparer.quote
        columns = ", ".join(quote(f.name) for f in table.schema)
        sql = f"INSERT INTO {quote(staged.name)} ({columns}) VALUES ({', '.join('?' * table.num_columns)})"
        with engine.begin() as conn:
            for batch in _sqlite_ready(table).to_batches(max_chunksize=batch_rows):
                if batch.num_rows:
                    conn.exec_driver_sql(sql, list(zip(*(c.to_pylist() for c in batch.columns), strict=True)))
                    rows += batch.num_rows
        return rows
    if engine.dialect.driver == "psycopg2" and not any(
        pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type) for f in table.schema
    ):
        return _copy_postgres(engine, staged.name, table, batch_rows * 10)
    # Core inserts use the dialect's batched "insertmanyvalues" (multi-row VALUES).
    insert = staged.insert()
    with engine.begin() as conn:
        for batch in table.to_batches(max_chunksize=batch_rows):
            if batch.num_rows:
                conn.execute(insert, batch.to_pylist())
                rows += batch.num_rows
    return rows


def _copy_postgres(engine: Engine, name: str, table: pa.Table, batch_rows: int) -> int:
    """COPY ... FROM STDIN in CSV: an order of magnitude faster than INSERTs on PostgreSQL.

    Arrow's CSV writer quotes every string and leaves nulls unquoted and empty, which is exactly
    how PostgreSQL's CSV format tells NULL from an empty string.
    """
    quote = engine.dialect.identifier_preparer.quote
    columns = ", ".join(quote(f.name) for f in table.schema)
    sql = f"COPY {quote(name)} ({columns}) FROM STDIN WITH (FORMAT csv)"
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    rows = 0
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        try:
            for batch in table.to_batches(max_chunksize=batch_rows):
                if batch.num_rows:
                    sink = io.BytesIO()
                    pacsv.write_csv(pa.Table.from_batches([batch]), sink, options)
                    sink.seek(0)
                    cursor.copy_expert(sql, sink)
                    rows += batch.num_rows
        finally:
            cursor.close()
    return rows


def _sqlite_ready(table: pa.Table) -> pa.Table:
    """Values as SQLAlchemy's SQLite types store them (UTC text timestamps, ISO dates, floats)."""
    for index, field in enumerate(table.schema):
        kind = field.type
        column = table.column(index)
        if pa.types.is_timestamp(kind):
            # Arrow keeps instants in UTC, so dropping the zone leaves the UTC wall time.
            naive = pc.cast(column, pa.timestamp("us"))
            column = pc.cast(naive, pa.string())
        elif pa.types.is_date(kind):
            column = pc.cast(column, pa.string())
        elif pa.types.is_decimal(kind):
            column = pc.cast(column, pa.float64())
        else:
            continue
        table = table.set_column(index, field.name, column)
    return table


@contextmanager
def _disposing(engine: Engine) -> Iterator[Engine]:
    try:
        yield engine
    finally:
        engine.dispose()


def publish_tables(
    url: str, tables: Mapping[str, pa.Table | pd.DataFrame], batch_rows: int = 10_000
) -> dict[str, int]:
    """Replace each named table in the warehouse at `url`; returns rows published per table.

    Every table is first loaded into `<name>__staging` in batches, then all of them are swapped
    in ONE transaction (`DROP TABLE IF EXISTS name; ALTER TABLE name__staging RENAME TO name`),
    which is atomic on PostgreSQL and SQLite (transactional DDL): a reader sees the previous
    tables or the new ones. On failure the staging tables are dropped and the old ones remain.
    """
    bad = [n for n in tables if not NAME_RE.match(n)]
    if bad:
        raise ValueError(f"warehouse table names must match {NAME_RE.pattern}: {bad}")
    counts: dict[str, int] = {}
    with _disposing(make_engine(url)) as engine:
        quote = engine.dialect.identifier_preparer.quote
        try:
            for name, data in tables.items():
                counts[name] = _stage(engine, name, _prepare(data), batch_rows)
            with engine.begin() as conn:
                for name in tables:
                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)}")
                    conn.exec_driver_sql(
                        f"ALTER TABLE {quote(name + STAGING_SUFFIX)} RENAME TO {quote(name)}"
                    )
        except sa.exc.SQLAlchemyError as exc:
            _drop_staging(engine, tables)
            # Driver messages can quote row values; keep only the error class and the table names.
            raise WarehouseError(
                f"publishing {sorted(tables)} to {engine.url.render_as_string(hide_password=True)} "
                f"failed ({type(getattr(exc, 'orig', None) or exc).__name__}); previous tables kept"
            ) from None
    return counts


def _drop_staging(engine: Engine, tables: Mapping[str, object]) -> None:
    quote = engine.dialect.identifier_preparer.quote
    try:
        with engine.begin() as conn:
            for name in tables:
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name + STAGING_SUFFIX)}")
    except sa.exc.SQLAlchemyError:
        pass  # best effort: the next publish drops leftovers before staging again


def read_table(url: str, name: str) -> pd.DataFrame:
    """Read a published table back (tests, access requests)."""
    if not NAME_RE.match(name):
        raise ValueError(f"bad table name {name!r}")
    with _disposing(make_engine(url)) as engine, engine.connect() as conn:
        return pd.read_sql_query(
            sa.text(f"SELECT * FROM {engine.dialect.identifier_preparer.quote(name)}"), conn
        )
