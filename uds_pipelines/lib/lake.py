"""The Parquet lake: table paths, atomic writes and DuckDB connections."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# Table locations relative to `<UDS_DATA_DIR>/lake`. Multi-file tables are folders of Parquet
# files read with a glob; single-file tables are replaced atomically on every run.
LANDED_STRIPE = "landed/stripe"
LANDED_SURVEYS = "landed/surveys"
LANDED_FORMS = "landed/forms"
LANDED_CONSENT = "landed/consent"
LANDED_PRIVACY = "landed/privacy"
LANDED_FILES = "landed/_files"
QUARANTINE = "quarantine"
IDENTITY_MAP = "identity/identity_map.parquet"
IDENTITY_CHANGES = "identity/identity_changes.parquet"
PROFILES = "profiles/customer_profiles.parquet"
SEGMENT_MEMBERSHIP = "segments/segment_membership.parquet"


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_replace(tmp: Path, final: Path) -> None:
    """Rename a fully written temp file over `final`, durably."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, final)
    fsync_dir(final.parent)


def temp_path_for(final: Path) -> Path:
    """A hidden sibling temp path; readers glob `*.parquet` and never see it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return final.parent / f".{final.name}.{uuid.uuid4().hex}.tmp"


def write_parquet_atomic(data: pd.DataFrame | pa.Table, final: Path) -> Path:
    """Write a frame or Arrow table to `final` so readers see the old file or the new one."""
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    tmp = temp_path_for(final)
    try:
        pq.write_table(table, tmp, compression="zstd")
        atomic_replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def copy_query_to_parquet(con: duckdb.DuckDBPyConnection, sql: str, final: Path, params=None) -> int:
    """Run `sql` in DuckDB and write the result to `final` atomically; returns the row count."""
    tmp = temp_path_for(final)
    try:
        con.execute(f"COPY ({sql}) TO '{_sql_path(tmp)}' (FORMAT parquet, COMPRESSION zstd)", params or [])
        atomic_replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return parquet_row_count(final)


def parquet_row_count(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows if path.exists() else 0


def new_batch_name(prefix: str = "batch") -> str:
    """A sortable, unique file name for an appended batch."""
    from datetime import datetime, timezone

    return f"{prefix}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.parquet"


def parquet_glob(folder: Path) -> str:
    return _sql_path(folder) + "/*.parquet"


def has_parquet(folder: Path) -> bool:
    return folder.is_dir() and any(
        p.suffix == ".parquet" and not p.name.startswith(".") for p in folder.iterdir()
    )


def read_table_sql(path: Path, empty_columns: dict[str, str]) -> str:
    """SQL for a lake table (file or folder of files), or an empty relation with the given columns.

    Downstream queries stay valid before anything has landed.
    """
    if path.suffix == ".parquet":
        if path.exists():
            return f"read_parquet('{_sql_path(path)}', union_by_name=true)"
    elif has_parquet(path):
        return f"read_parquet('{parquet_glob(path)}', union_by_name=true)"
    cols = ", ".join(f"CAST(NULL AS {typ}) AS {name}" for name, typ in empty_columns.items())
    return f"(SELECT {cols} WHERE false)"


def duckdb_connection(memory_limit: str = "2GB", threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that spills to disk rather than exceeding `memory_limit`."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit='{memory_limit}'")
    con.execute("SET preserve_insertion_order=false")
    if threads:
        con.execute(f"SET threads={int(threads)}")
    return con


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def sql_literal_list(values: Iterable[str]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
