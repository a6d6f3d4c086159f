"""The Parquet lake's files: atomic writes, temp files, listings and DuckDB connections (tables are `catalog` and `lake_views`)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from uds_pipelines.lib import storage

# A batch written but not yet released (screened against the suppression list): globs of
# `*.parquet` skip it, erasure still reaches it.
HELD_SUFFIX = ".held"


fsync_dir = storage.fsync_dir
atomic_replace = storage.publish  # (tmp, final): rename locally, one upload to object storage


def temp_path_for(final: Path) -> Path:
    """A local temp path for a file that will become `final`.

    Local lake: a hidden sibling, so the rename stays on one filesystem and readers (who glob
    `*.parquet`) never see it. Object storage: a private local temp folder, uploaded in one piece.
    The name carries this writer's host and PID, so the first write of a later process into the
    same folder can tell a killed writer's leftover from a live writer's file (`sweep_stale_temps`).
    """
    if storage.is_remote(final):
        return private_temp_path(final.name)
    folder = final.parent
    _prepare_temp_folder(folder)
    return folder / f".{final.name}.{_writer_tag()}.tmp"


def private_temp_path(name: str) -> Path:
    """A tagged path in the private local temp folder (object-storage uploads, DuckDB spill)."""
    folder = private_temp_dir()
    _prepare_temp_folder(folder)
    return folder / f"uds-{name}.{_writer_tag()}.tmp"


def _writer_tag() -> str:
    return f"{writer_id()}-{uuid.uuid4().hex[:12]}"


def writer_id() -> str:
    """This process, as temp and pending file names carry it: `<host>-<pid>`."""
    return f"{_HOST}-{os.getpid()}"


def _prepare_temp_folder(folder: Path) -> None:
    storage.make_private_dirs(folder)
    if str(folder) not in _SWEPT:  # once per process and folder: a listing per write would cost
        _SWEPT.add(str(folder))
        sweep_stale_temps(folder)


def private_temp_dir() -> Path:
    """Where temp files for object storage are written: per user, 0700 (the system temp folder is
    shared, and these files hold personal data in clear)."""
    return Path(tempfile.gettempdir()) / f"uds-{os.getuid()}"


# Temp names: `<prefix><final name>.<host>-<pid>-<random>.tmp`, host = 8 hex of the host name's
# sha256 (names may hold dots and dashes). LEGACY_TEMP is the name before writers were tagged.
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
TAGGED_TEMP = re.compile(r"^(?:\.|uds-).+\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{12}\.tmp$")
LEGACY_TEMP = re.compile(r"^(?:\..+\.[0-9a-f]{32}|uds-[0-9a-f]{32}-.+)\.tmp$")
# A keyed table's pending part (`part_journal`), and the journal that, while it exists, vouches for
# the folder's pending parts (a committed change that readers finish): those are never swept.
PENDING_PART = re.compile(r"^\..+\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)\.pending$")
PART_JOURNAL = ".journal.json"
STALE_TEMP_AGE_SECONDS = 24 * 3600  # for writers we cannot ask: another host, or an untagged name
_SWEPT: set[str] = set()


def sweep_stale_temps(folder: Path, max_age_seconds: float = STALE_TEMP_AGE_SECONDS) -> list[Path]:
    """Remove temp files in `folder` that killed writers left behind, and the pending parts of a
    keyed table's change they never committed (no journal in the folder); returns what was removed.

    A temp file of this host whose writer process is gone is removed at once; one of another host
    (we cannot see its processes) or with an untagged name only once it is older than
    `max_age_seconds`, far longer than any write takes. A live writer's file is never touched
    (sensors and runs write into the same folders at the same time), nor any name that is not ours.
    A PID reused by an unrelated process keeps its dead writer's file until that process ends.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return removed
    journal = any(entry.name == PART_JOURNAL for entry in entries)
    for entry in entries:
        tagged, legacy = TAGGED_TEMP.match(entry.name), LEGACY_TEMP.match(entry.name)
        if not journal and not (tagged or legacy):
            tagged = PENDING_PART.match(entry.name)
        if not (tagged or legacy) or entry.is_symlink():
            continue
        if tagged and tagged["host"] == _HOST:
            stale = not _process_alive(int(tagged["pid"]))
        else:
            try:
                stale = time.time() - entry.stat(follow_symlinks=False).st_mtime > max_age_seconds
            except FileNotFoundError:
                continue
        if stale and entry.is_dir():  # a DuckDB spill folder
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
        elif stale:
            Path(entry.path).unlink(missing_ok=True)  # its writer may have just renamed it: fine
            removed.append(Path(entry.path))
    return removed


def sweep_stale_temps_under(root: Path) -> list[Path]:
    """`sweep_stale_temps` in every folder under a local `root` (object storage holds no temp files:
    they are local, in `private_temp_dir`, which is swept too)."""
    removed = sweep_stale_temps(private_temp_dir())
    if storage.is_remote(root):
        return removed
    for folder, _dirs, _files in os.walk(root):
        removed += sweep_stale_temps(Path(folder))
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, another user's
    return True


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


def batch_files(folder: Path) -> list[Path]:
    """The Parquet files of a folder table, as a `*.parquet` glob reads them (hidden temp files and
    `.held` batches excluded), sorted by name."""
    if storage.is_remote(folder):
        names = storage.list_names(folder)  # one LIST request; is_dir + iterdir would cost three
    else:
        names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return [folder / n for n in sorted(names) if n.endswith(".parquet") and not n.startswith(".")]


def partitioned_batch_files(folder: Path, column: str) -> list[Path]:
    """The batch files of a Hive-partitioned folder table (`<folder>/<column>=<value>/*.parquet`),
    as `<folder>/*/*.parquet` reads them, sorted by partition then name."""
    if storage.is_remote(folder):
        names = storage.list_names(folder)
    else:
        names = [p.name for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    prefix = f"{column}="
    return [f for n in sorted(names) if n.startswith(prefix) for f in batch_files(folder / n)]


def has_parquet(folder: Path) -> bool:
    return bool(batch_files(folder))


# DuckDB's limit bounds its buffer pool; Python, Arrow and DuckDB's own bookkeeping come on top
# (about 350 MiB in staging at 1M to 10M events). 1.5 GB keeps a step's whole process under 2 GiB
# (the 2 GB default it replaces peaked at 2.1 to 2.3 GiB in staging and profiles).
DEFAULT_MEMORY_LIMIT = "1.5GB"


def duckdb_connection(memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that spills to disk rather than exceeding `memory_limit`."""
    con = duckdb.connect(":memory:")
    # Spill files hold personal data in clear: a private folder of this connection (DuckDB creates
    # it when it first spills and removes it on close), not `.tmp` in the working directory; a
    # killed process's folder is swept like any temp file.
    con.execute(f"SET temp_directory='{_sql_path(private_temp_path('duckdb-spill'))}'")
    con.execute(f"SET memory_limit='{memory_limit}'")
    # as given: DuckDB shows its setting rounded ('1.3 GiB'), which `release_memory` must not restore
    con.execute(f"SET VARIABLE {_LIMIT_VARIABLE} = '{memory_limit}'")
    con.execute("SET preserve_insertion_order=false")
    if threads:
        con.execute(f"SET threads={int(threads)}")
    storage.register_with_duckdb(con)
    return con


_LIMIT_VARIABLE = "uds_memory_limit"
_RELEASE_LIMIT = "64MB"
# Releasing costs a temp table bigger than `_RELEASE_LIMIT` a trip to disk and back (0.13 s for
# 290 MB): callers release before big work only, not before each of hundreds of day folders.
RELEASE_BEFORE_BYTES = 256 << 20


def release_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Return to the system the memory DuckDB's allocator and Arrow's pool keep after their work,
    before other work needs it. After a scan of a 2.2 GB landed file the process holds about 600 MB
    more than before, though DuckDB reports no buffer in use; a moment at a low memory limit makes
    DuckDB flush its allocator (temp tables past that limit spill to disk and are read back when
    used). DuckDB's part only for connections from `duckdb_connection`: others are left alone."""
    pa.default_memory_pool().release_unused()
    limit = con.execute(f"SELECT getvariable('{_LIMIT_VARIABLE}')").fetchone()[0]
    if not limit:
        return
    try:
        con.execute(f"SET memory_limit='{_RELEASE_LIMIT}'")
    except duckdb.Error:
        pass  # more is pinned than that: nothing to hand back now
    finally:
        con.execute(f"SET memory_limit='{limit}'")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sql_path(path: Path) -> str:
    """A path as the body of a SQL string literal."""
    return str(path).replace("'", "''")


_sql_path = sql_path


def files_relation(files: Iterable[Path], **options: str | bool) -> str:
    """A parenthesized subquery over the given Parquet files by name, for work on files rather than
    tables (erasure rewrites them one by one, conservation counts rows per source file); `options`
    are DuckDB read_parquet options (`filename=True`, `union_by_name=True`, ...).
    Stage SQL reads tables through their views (`lake_views`) instead."""
    listed = ", ".join(f"'{sql_path(f)}'" for f in files)
    opts = "".join(f", {k}={_option(v)}" for k, v in options.items())
    return f"(SELECT * FROM read_parquet([{listed}]{opts}))"


def _option(value: str | bool) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else f"'{value}'"


def sql_literal_list(values: Iterable[str]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def quote_ident(name: str) -> str:
    """A column or table name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def timestamp_literal(value: datetime) -> str:
    """A DuckDB TIMESTAMPTZ literal for an aware datetime (naive is taken as UTC)."""
    if value.tzinfo is None:
        return f"TIMESTAMPTZ '{value.isoformat()}+00:00'"
    return f"TIMESTAMPTZ '{value.isoformat()}'"
