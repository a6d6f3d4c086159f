"""Publish whole tables so readers see the old table or the new one, never half of one (no keys)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from uds_pipelines.lib.warehouse.engine import NAME_RE, check_names, disposing, failure, make_engine
from uds_pipelines.lib.warehouse.staging import STAGING_SUFFIX, drop_staging, prepare, stage


def publish_tables(
    url: str, tables: Mapping[str, pa.Table | pd.DataFrame], batch_rows: int = 10_000
) -> dict[str, int]:
    """Replace each named table in the warehouse at `url`; returns rows published per table.

    Every table is first loaded into `<name>__staging` in batches, then all of them are swapped
    in ONE transaction (`DROP TABLE IF EXISTS name; ALTER TABLE name__staging RENAME TO name`),
    which is atomic on PostgreSQL and SQLite (transactional DDL): a reader sees the previous
    tables or the new ones. On failure the staging tables are dropped and the old ones remain.
    Keyed tables a BI tool syncs go through `upsert.upsert_tables` instead.
    """
    check_names(tables)
    counts: dict[str, int] = {}
    with disposing(make_engine(url)) as engine:
        quote = engine.dialect.identifier_preparer.quote
        try:
            for name, data in tables.items():
                counts[name] = stage(engine, name, prepare(data), batch_rows)
            with engine.begin() as conn:
                for name in tables:
                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)}")
                    conn.exec_driver_sql(
                        f"ALTER TABLE {quote(name + STAGING_SUFFIX)} RENAME TO {quote(name)}"
                    )
        except sa.exc.SQLAlchemyError as exc:
            drop_staging(engine, tables)
            raise failure(engine, tables, exc) from None
    return counts


def read_table(url: str, name: str) -> pd.DataFrame:
    """Read a published table back (tests, access requests)."""
    if not NAME_RE.match(name):
        raise ValueError(f"bad table name {name!r}")
    with disposing(make_engine(url)) as engine, engine.connect() as conn:
        return pd.read_sql_query(
            sa.text(f"SELECT * FROM {engine.dialect.identifier_preparer.quote(name)}"), conn
        )
