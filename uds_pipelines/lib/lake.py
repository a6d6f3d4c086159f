"""The Parquet lake: table paths, atomic writes and DuckDB connections."""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Iterable
from datetime import UTC
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from uds_pipelines.lib import storage

# Table locations relative to the lake (`<UDS_DATA_DIR>/lake`, or `<UDS_LAKE_URL>/lake`). Multi-file tables are folders of Parquet
# files read with a glob; single-file tables are replaced atomically on every run.
LANDED_STRIPE = "landed/stripe"
LANDED_SURVEYS = "landed/surveys"
LANDED_FORMS = "landed/forms"
LANDED_CONSENT = "landed/consent"
LANDED_PRIVACY = "landed/privacy"
LANDED_FILES = "landed/_files"
QUARANTINE = "quarantine"
# A batch written but not yet released (screened against the suppression list): globs of
# `*.parquet` skip it, erasure still reaches it.
HELD_SUFFIX = ".held"
IDENTITY_MAP = "identity/identity_map.parquet"
IDENTITY_CHANGES = "identity/identity_changes.parquet"
PROFILES = "profiles/customer_profiles.parquet"
SEGMENT_MEMBERSHIP = "segments/segment_membership.parquet"


fsync_dir = storage.fsync_dir
atomic_replace = storage.publish  # (tmp, final): rename locally, one upload to object storage


def temp_path_for(final: Path) -> Path:
    """A local temp path for a file that will become `final`.

    Local lake: a hidden sibling, so the rename stays on one filesystem and readers (who glob
    `*.parquet`) never see it. Object storage: the local temp folder, uploaded in one piece.
    """
    if storage.is_remote(final):
        return Path(tempfile.gettempdir()) / f"uds-{uuid.uuid4().hex}-{final.name}.tmp"
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
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return pq.ParquetFile(handle).metadata.num_rows


def read_arrow(path: Path) -> pa.Table:
    """One Parquet file as an Arrow table, local or on object storage."""
    with path.open("rb") as handle:
        return pq.read_table(handle)


def read_frame(path: Path) -> pd.DataFrame:
    return read_arrow(path).to_pandas()


def new_batch_name(prefix: str = "batch") -> str:
    """A sortable, unique file name for an appended batch."""
    from datetime import datetime

    return f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.parquet"


def parquet_glob(folder: Path) -> str:
    return _sql_path(folder) + "/*.parquet"


def has_parquet(folder: Path) -> bool:
    if storage.is_remote(folder):
        names = storage.list_names(folder)  # one LIST request; is_dir + iterdir would cost three
    else:
        names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return any(n.endswith(".parquet") and not n.startswith(".") for n in names)


def read_table_sql(path: Path, empty_columns: dict[str, str]) -> str:
    """A parenthesized subquery over a lake table (file or folder of files), or an empty relation
    with the given columns, so downstream queries stay valid before anything has landed.

    Always a subquery, never a bare table function: callers put it after FROM or JOIN, with or
    without parentheses of their own, and DuckDB >= 2.0.1 rejects `FROM (read_parquet(...))`.
    """
    if path.suffix == ".parquet":
        if path.exists():
            return parquet_relation(path)
    elif has_parquet(path):
        return f"(SELECT * FROM read_parquet('{parquet_glob(path)}', union_by_name=true))"
    cols = ", ".join(f"CAST(NULL AS {typ}) AS {name}" for name, typ in empty_columns.items())
    return f"(SELECT {cols} WHERE false)"


def parquet_relation(path: Path) -> str:
    """A parenthesized subquery over one Parquet file, safe to wrap again (see read_table_sql)."""
    return f"(SELECT * FROM read_parquet('{_sql_path(path)}', union_by_name=true))"


def duckdb_connection(memory_limit: str = "2GB", threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that spills to disk rather than exceeding `memory_limit`."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit='{memory_limit}'")
    con.execute("SET preserve_insertion_order=false")
    if threads:
        con.execute(f"SET threads={int(threads)}")
    storage.register_with_duckdb(con)
    return con


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def sql_literal_list(values: Iterable[str]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
