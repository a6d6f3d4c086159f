"""Keyed warehouse tables kept in step with their source: one transaction per table that inserts
new keys, updates changed rows and deletes rows whose keys left the source.

The rows are bulk-loaded into `<name>__staging` first (COPY on PostgreSQL); the merge is then a
few set-based statements per table, never a statement per row. On PostgreSQL and SQLite (3.24+)
the insert-or-update is one `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE <a value differs>`,
so an unchanged row is not written and keeps its `_uds_updated_at`. Other databases take the
portable path (`generic`): delete the changed rows, then insert every key the table lacks, in the
same transaction; it needs transactional DML only, but a rebuild after a layout change is atomic
only where DDL is transactional (not MySQL).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from uds_pipelines.lib.warehouse.engine import (
    COLUMN_RE,
    WarehouseError,
    check_names,
    disposing,
    failure,
    make_engine,
)
from uds_pipelines.lib.warehouse.schema import META_TABLE, UPDATED_AT, WAREHOUSE_TABLES, WarehouseTable
from uds_pipelines.lib.warehouse.staging import STAGING_SUFFIX, drop_staging, prepare, sql_columns, stage

NATIVE_UPSERT = ("postgresql", "sqlite")
# Databases with indexes (Snowflake and other column stores have none and join by hashing)
INDEXED = ("postgresql", "sqlite", "mysql", "mariadb", "mssql", "oracle")


@dataclass(frozen=True)
class UpsertCounts:
    rows: int  # rows the table holds from this publish (its source rows)
    inserted: int
    updated: int
    deleted: int
    rebuilt: bool  # the layout changed (or the table was new): recreated, every row inserted


def upsert_tables(
    url: str,
    tables: Mapping[str, pa.Table | pd.DataFrame],
    specs: Mapping[str, WarehouseTable] = WAREHOUSE_TABLES,
    now: datetime | None = None,
    batch_rows: int = 10_000,
    generic: bool = False,
) -> dict[str, UpsertCounts]:
    """Upsert each named table (declared in `specs`) into the warehouse at `url`.

    `now` is what changed and new rows get as `_uds_updated_at` (default: the current time).
    `generic` forces the portable path on PostgreSQL and SQLite too (tests). A table that fails
    is left as it was and the others are still published (one bad source must not hold back the
    rest, erased rows included); then `WarehouseError` names every failed table.
    """
    check_names(tables)
    unknown = sorted(set(tables) - set(specs))
    if unknown:
        raise ValueError(f"no warehouse declaration (key) for {unknown}")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    counts: dict[str, UpsertCounts] = {}
    failed: list[str] = []
    with disposing(make_engine(url)) as engine:
        for name, data in tables.items():
            spec = specs[name]
            table = prepare(data)
            table = table.drop_columns([c for c in spec.exclude if c in table.column_names])
            _check_columns(spec, table.schema)
            try:
                rows = stage(engine, name, table, batch_rows, spec.keys)
                with engine.begin() as conn:
                    counts[name] = _merge(conn, spec, table.schema, rows, now, generic)
            except sa.exc.SQLAlchemyError as exc:
                drop_staging(engine, [name])
                failed.append(str(failure(engine, [name], exc)))
            except WarehouseError as exc:
                drop_staging(engine, [name])
                failed.append(str(exc))
    if failed:
        raise WarehouseError("; ".join(failed))
    return counts


def _check_columns(spec: WarehouseTable, schema: pa.Schema) -> None:
    check_names(schema.names, COLUMN_RE, "column")
    if UPDATED_AT in schema.names:
        raise ValueError(f"{spec.name}: {UPDATED_AT} is set by the warehouse, not by the source")
    missing = [c for c in (*spec.keys, *spec.replace_within) if c not in schema.names]
    if missing:
        raise ValueError(f"{spec.name}: the source has no key column(s) {missing}; nothing published")


def _merge(
    conn: Connection, spec: WarehouseTable, schema: pa.Schema, rows: int, now: datetime, generic: bool
) -> UpsertCounts:
    engine = conn.engine
    q = engine.dialect.identifier_preparer.quote
    target, staged = q(spec.name), q(spec.name + STAGING_SUFFIX)
    if engine.dialect.name == "sqlite":
        # Deleted rows can be an erased person's (their keys left the source): zero the bytes.
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
    _check_keys(conn, spec, staged)
    keys = ", ".join(q(k) for k in spec.keys)
    if engine.dialect.name in INDEXED:
        # The anti-joins below look rows up by key in the staging table.
        conn.exec_driver_sql(f"CREATE UNIQUE INDEX {q(spec.name + '__staging_key')} ON {staged} ({keys})")
    if engine.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {staged}")
    rebuilt = _ensure_target(conn, spec, schema)
    same_key = " AND ".join(f"s.{q(k)} = {target}.{q(k)}" for k in spec.keys)
    within = "".join(
        f" AND EXISTS (SELECT 1 FROM {staged} s WHERE s.{q(c)} = {target}.{q(c)})"
        for c in spec.replace_within
    )
    deleted = conn.exec_driver_sql(
        f"DELETE FROM {target} WHERE NOT EXISTS (SELECT 1 FROM {staged} s WHERE {same_key}){within}"
    ).rowcount
    new_keys = conn.exec_driver_sql(
        f"SELECT count(*) FROM {staged} s WHERE NOT EXISTS (SELECT 1 FROM {target} WHERE {same_key})"
    ).scalar_one()
    values = [c for c in schema.names if c not in spec.keys]
    all_columns = ", ".join(q(c) for c in (*schema.names, UPDATED_AT))
    select = ", ".join(f"s.{q(c)}" for c in schema.names) + ", :now"
    stamp = sa.bindparam("now", _stamp(engine, now))
    if engine.dialect.name in NATIVE_UPSERT and not generic:
        distinct = "IS NOT" if engine.dialect.name == "sqlite" else "IS DISTINCT FROM"
        if values:
            sets = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in (*values, UPDATED_AT))
            differs = " OR ".join(f"{target}.{q(c)} {distinct} excluded.{q(c)}" for c in values)
            action = f"DO UPDATE SET {sets} WHERE {differs}"
        else:
            action = "DO NOTHING"  # a key-only table: a row is its key
        # `WHERE true`: SQLite's parser needs it to tell ON CONFLICT from a join constraint.
        sql = f"INSERT INTO {target} ({all_columns}) SELECT {select} FROM {staged} s WHERE true ON CONFLICT ({keys}) {action}"
        written = conn.execute(sa.text(sql).bindparams(stamp)).rowcount
        updated = written - new_keys
    else:
        changed = " OR ".join(
            # null-safe "differs" in plain SQL: a value against NULL counts, NULL against NULL not
            f"(s.{q(c)} <> {target}.{q(c)} OR (s.{q(c)} IS NULL AND {target}.{q(c)} IS NOT NULL) "
            f"OR (s.{q(c)} IS NOT NULL AND {target}.{q(c)} IS NULL))"
            for c in values
        )
        updated = 0
        if values:
            updated = conn.exec_driver_sql(
                f"DELETE FROM {target} WHERE EXISTS (SELECT 1 FROM {staged} s WHERE {same_key} AND ({changed}))"
            ).rowcount
        sql = (
            f"INSERT INTO {target} ({all_columns}) SELECT {select} FROM {staged} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {target} WHERE {same_key})"
        )
        conn.execute(sa.text(sql).bindparams(stamp))
    conn.exec_driver_sql(f"DROP TABLE {staged}")
    return UpsertCounts(rows, int(new_keys), int(updated), int(deleted), rebuilt)


def _check_keys(conn: Connection, spec: WarehouseTable, staged: str) -> None:
    """A key must be present and unique, or the upsert would fail half-way or pick a row at random."""
    q = conn.engine.dialect.identifier_preparer.quote
    keys = ", ".join(q(k) for k in spec.keys)
    nulls = conn.exec_driver_sql(
        f"SELECT count(*) FROM {staged} WHERE " + " OR ".join(f"{q(k)} IS NULL" for k in spec.keys)
    ).scalar_one()
    duplicated = conn.exec_driver_sql(
        f"SELECT count(*) FROM (SELECT 1 AS one FROM {staged} GROUP BY {keys} HAVING count(*) > 1) d"
    ).scalar_one()
    if nulls or duplicated:
        # counts only: key values can be personal
        raise WarehouseError(
            f"{spec.name}: {nulls} row(s) with a null key and {duplicated} key(s) on more than one row "
            f"in ({', '.join(spec.keys)}); the table was left as it was"
        )


def _ensure_target(conn: Connection, spec: WarehouseTable, schema: pa.Schema) -> bool:
    """Create the table, or recreate it when its columns, types or key changed; True if (re)created."""
    engine = conn.engine
    cols = sql_columns(engine, schema, spec.keys)
    layout = json.dumps(
        {"keys": list(spec.keys), "columns": [[c.name, str(c.type.compile(engine.dialect))] for c in cols]}
    )
    meta = sa.Table(
        META_TABLE,
        sa.MetaData(),
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("key_columns", sa.Text, nullable=False),
        sa.Column("layout", sa.Text, nullable=False),
        sa.Column("layout_since", sa.DateTime(timezone=True), nullable=False),
    )
    meta.create(conn, checkfirst=True)
    current = conn.execute(sa.select(meta.c.layout).where(meta.c.table_name == spec.name)).scalar()
    if current == layout and sa.inspect(conn).has_table(spec.name):
        return False
    # A BI tool sees the rebuild as every row changed, which is what a new layout means for it.
    target = sa.Table(
        spec.name,
        sa.MetaData(),
        *cols,
        sa.Column(UPDATED_AT, sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(*spec.keys, name=f"{spec.name}_pkey"),
    )
    target.drop(conn, checkfirst=True)
    target.create(conn)
    conn.execute(sa.delete(meta).where(meta.c.table_name == spec.name))
    conn.execute(
        meta.insert().values(
            table_name=spec.name,
            key_columns=",".join(spec.keys),
            layout=layout,
            layout_since=datetime.now(UTC),
        )
    )
    return True


def _stamp(engine: Engine, now: datetime) -> datetime | str:
    """The update time as the dialect stores DateTime: SQLite keeps UTC text, as staging writes it."""
    if engine.dialect.name == "sqlite":
        return now.strftime("%Y-%m-%d %H:%M:%S.%f")
    return now
