"""Bulk loading into `<name>__staging` tables: Arrow in, COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.engine import Engine

STAGING_SUFFIX = "__staging"


# PostgreSQL and SQLite index TEXT; other databases (MySQL) cannot make an unbounded text a key.
TEXT_KEY_DIALECTS = ("postgresql", "sqlite")


def column_type(arrow_type: pa.DataType) -> sa.types.TypeEngine:
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


def prepare(data: pa.Table | pd.DataFrame) -> pa.Table:
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


def sql_columns(engine: Engine, schema: pa.Schema, keys: Iterable[str] = ()) -> list[sa.Column]:
    """SQL columns for an Arrow schema; key columns are NOT NULL (bounded text where TEXT cannot key)."""
    keys = set(keys)
    out = []
    for f in schema:
        kind = column_type(f.type)
        if f.name in keys and isinstance(kind, sa.Text) and engine.dialect.name not in TEXT_KEY_DIALECTS:
            kind = sa.String(255)
        out.append(sa.Column(f.name, kind, nullable=f.name not in keys))
    return out


def stage(engine: Engine, name: str, table: pa.Table, batch_rows: int, keys: Iterable[str] = ()) -> int:
    """Load `table` into a fresh `<name>__staging` (committed, so a failure later can drop it)."""
    staged = sa.Table(
        name + STAGING_SUFFIX,
        sa.MetaData(),
        *(sa.Column(c.name, c.type, nullable=True) for c in sql_columns(engine, table.schema, keys)),
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


def drop_staging(engine: Engine, tables: Iterable[str]) -> None:
    quote = engine.dialect.identifier_preparer.quote
    try:
        with engine.begin() as conn:
            for name in tables:
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name + STAGING_SUFFIX)}")
    except sa.exc.SQLAlchemyError:
        pass  # best effort: the next publish drops leftovers before staging again
