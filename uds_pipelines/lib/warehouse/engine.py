"""Warehouse connections: engines whose transactions cover DDL, private SQLite files, name checks."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from uds_pipelines.lib import storage

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,50}$")
# Column names end up quoted in hand-written SQL (and `sa.text`, where a colon is a bind
# parameter), so they are held to PostgreSQL's identifier length and plain characters.
COLUMN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class WarehouseError(RuntimeError):
    """Publishing failed; the previously published tables are untouched."""


def check_names(names: Iterable[str], pattern: re.Pattern = NAME_RE, what: str = "table") -> None:
    bad = [n for n in names if not pattern.match(n)]
    if bad:
        raise ValueError(f"warehouse {what} names must match {pattern.pattern}: {bad}")


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


@contextmanager
def disposing(engine: Engine) -> Iterator[Engine]:
    try:
        yield engine
    finally:
        engine.dispose()


def failure(engine: Engine, tables: Iterable[str], exc: BaseException) -> WarehouseError:
    """The error to raise for a failed publish: driver messages can quote row values, so only the
    error class and the table names are kept."""
    return WarehouseError(
        f"publishing {sorted(tables)} to {engine.url.render_as_string(hide_password=True)} "
        f"failed ({type(getattr(exc, 'orig', None) or exc).__name__}); previous tables kept"
    )
