"""Erase persons from the SQL warehouse in one transaction, overwriting the freed bytes on SQLite."""

from __future__ import annotations

import sqlalchemy as sa

from uds_pipelines.lib.warehouse import make_engine

CHUNK = 500


def erase_warehouse(url: str | None, owners: dict[str, str]) -> dict[str, dict[str, int]]:
    """DELETE every row whose `customer_id` is one of `owners` (customer_id -> request id).

    Every table with a `customer_id` column is covered: every per-person table of
    `warehouse.WAREHOUSE_TABLES` (profiles, segment membership and history, identity map,
    effective consent, audience members), a leftover `__staging` table, and tables published by
    older versions. The next publish does not bring the rows back: their keys have left the lake.
    Returns rows removed per table per request. On SQLite, `secure_delete`
    zeroes the deleted content and the WAL is checkpointed, so no old bytes stay in the files.
    """
    removed: dict[str, dict[str, int]] = {}
    if not url or not owners:
        return removed
    engine = make_engine(url)
    try:
        sqlite = engine.dialect.name == "sqlite"
        ids = sorted(owners)
        with engine.connect() as conn:
            with conn.begin():
                if sqlite:
                    conn.exec_driver_sql("PRAGMA secure_delete = ON")
                inspector = sa.inspect(conn)
                tables = [
                    t
                    for t in inspector.get_table_names()
                    if any(c["name"].lower() == "customer_id" for c in inspector.get_columns(t))
                ]
                for table in tables:
                    counts: dict[str, int] = {}
                    target = sa.table(table, sa.column("customer_id"))
                    for start in range(0, len(ids), CHUNK):
                        chunk = ids[start : start + CHUNK]
                        where = target.c.customer_id.in_(chunk)
                        query = (
                            sa.select(target.c.customer_id, sa.func.count())
                            .where(where)
                            .group_by(target.c.customer_id)
                        )
                        for customer, n in conn.execute(query):
                            rid = owners.get(str(customer), "_unknown")
                            counts[rid] = counts.get(rid, 0) + int(n)
                        conn.execute(sa.delete(target).where(where))
                    if counts:
                        removed[table] = counts
        if sqlite:
            checkpoint_sqlite(engine)
    finally:
        engine.dispose()
    return removed


def checkpoint_sqlite(engine: sa.engine.Engine) -> None:
    """Copy the WAL into the database and truncate it, outside any transaction."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
