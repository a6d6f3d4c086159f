"""Delete matching rows from Parquet files: match in DuckDB, rewrite only affected files atomically."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from uds_pipelines.lib import lake, storage
from uds_pipelines.lib.lake import quote_ident

FILE_COL = "_prv_file"
ROW_COL = "_prv_row"


@dataclass
class FileChange:
    """What happened to one Parquet file: rows removed, bytes of the rewritten file, or deleted."""

    path: Path
    rows_removed: int
    bytes_written: int
    deleted: bool


def parquet_files(root: Path, exclude: set | None = None) -> dict[Path, list[Path]]:
    """Visible `*.parquet` files (and held batches, which are Parquet too) under `root`, grouped by
    folder (one folder = one table)."""
    groups: dict[Path, list[Path]] = {}
    excluded = {p if isinstance(p, str) else storage.key(p) for p in exclude or set()}
    for path in storage.walk_files(root):
        name = path.name
        parquet = name.endswith((".parquet", ".parquet" + lake.HELD_SUFFIX))
        if parquet and not name.startswith(".") and storage.key(path) not in excluded:
            groups.setdefault(path.parent, []).append(path)
    return groups


def describe_files(con: duckdb.DuckDBPyConnection, files: list[Path]) -> dict[str, str]:
    """Column name -> DuckDB type of the files read together (by name)."""
    rows = con.execute(f"DESCRIBE SELECT * FROM {lake.files_relation(files, union_by_name=True)}").fetchall()
    return {r[0]: str(r[1]).upper() for r in rows}


@dataclass
class MatchSpec:
    """How to find a person's rows in one table.

    `predicate` selects the rows to delete. `extra` columns (alias -> SQL) are kept for the matched
    rows in `_prv_m`, and each of `tag_queries` selects (`_prv_file`, `_prv_row`, `request_id`)
    from `_prv_m`, attributing rows to the requests that caused them.
    """

    predicate: str
    extra: dict[str, str] = field(default_factory=dict)
    tag_queries: list[str] = field(default_factory=list)


def matching_rows(
    con: duckdb.DuckDBPyConnection, files: list[Path], spec: MatchSpec
) -> tuple[dict[Path, np.ndarray], dict[tuple[Path, str], int]]:
    """Row numbers per file where the predicate holds (NULL is false), and rows per (file, request)."""
    by_name = {str(f): f for f in files}  # DuckDB reports the names it was given

    def path_of(name: str) -> Path:
        return by_name.get(name) or storage.same_kind_path(name, files[0])

    extra = "".join(f", {expr} AS {quote_ident(alias)}" for alias, expr in spec.extra.items())
    source = lake.files_relation(files, union_by_name=True, filename=FILE_COL, file_row_number=True)
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _prv_m AS
            SELECT {FILE_COL}, file_row_number AS {ROW_COL}{extra}
            FROM {source}
            WHERE coalesce(({spec.predicate}), false)
            """
        )
        rows = con.execute(f"SELECT {FILE_COL}, list({ROW_COL}) FROM _prv_m GROUP BY 1").fetchall()
        tags: dict[tuple[Path, str], int] = {}
        if rows and spec.tag_queries:
            union = " UNION ".join(spec.tag_queries)
            for name, request_id, n in con.execute(
                f"SELECT {FILE_COL}, request_id, count(*) FROM ({union}) GROUP BY ALL"
            ).fetchall():
                tags[(path_of(name), request_id)] = int(n)
    finally:
        con.execute("DROP TABLE IF EXISTS _prv_m")
    return {path_of(name): np.sort(np.asarray(numbers, dtype=np.int64)) for name, numbers in rows}, tags


REWRITE_BATCH_ROWS = 65_536
REWRITE_THREADS = max(1, min(4, os.cpu_count() or 1))


def remove_rows(path: Path, row_numbers: np.ndarray) -> FileChange:
    """Rewrite `path` without `row_numbers` (same schema and metadata), or delete it if nothing is left.

    Streams one row group at a time: a single landed Stripe batch can hold millions of events
    (2.3 GB of Parquet at 10M), far more than fits in memory decoded."""
    with path.open("rb") as source:
        parquet = pq.ParquetFile(source)
        total = parquet.metadata.num_rows
        drop = np.unique(row_numbers[(row_numbers >= 0) & (row_numbers < total)])
        if len(drop) == total:
            storage.remove(path)
            return FileChange(path, int(total), 0, True)
        tmp = lake.temp_path_for(path)
        try:
            with pq.ParquetWriter(tmp, parquet.schema_arrow, compression="zstd") as writer:
                offset = 0
                # Row group by row group: `iter_batches` holds on to what it has read (rewriting a
                # 2.3 GB landed file took 2.7 GB of RSS with it, 0.7 GB this way).
                for index in range(parquet.num_row_groups):
                    # what the last group's decoding and encoding kept goes back first: over the
                    # 2.2 GB landed file, 809 -> 667 MB at the peak for 4% more time
                    pa.default_memory_pool().release_unused()
                    group = parquet.read_row_group(index, use_threads=False)
                    rows = group.num_rows
                    first, last = np.searchsorted(drop, [offset, offset + rows])
                    if first < last:
                        keep = np.ones(rows, dtype=bool)
                        keep[drop[first:last] - offset] = False
                        group = group.filter(pa.array(keep))
                    if group.num_rows:
                        writer.write_table(group, row_group_size=REWRITE_BATCH_ROWS)
                    offset += rows
            lake.atomic_replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return FileChange(path, int(len(drop)), path.stat().st_size, False)


def delete_where(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    spec_for: Callable[[dict[str, str]], MatchSpec | None],
    exclude: set[Path] | None = None,
) -> tuple[list[FileChange], dict[tuple[Path, str], int]]:
    """For every table folder under `root`, delete rows matching `spec_for(columns)`.

    `spec_for` gets the column names and DuckDB types of a folder's files and returns a MatchSpec,
    or None to leave them alone. Untouched files keep their bytes and mtime. Returns the changed
    files and, when the spec attributes rows, the rows removed per (file, request id).
    """
    changes: list[FileChange] = []
    tags: dict[tuple[Path, str], int] = {}
    for _folder, files in parquet_files(root, exclude).items():
        for group in _schema_groups(con, files):
            spec = spec_for(describe_files(con, group))
            if spec is None:
                continue
            matched, group_tags = matching_rows(con, group, spec)
            tags.update(group_tags)
            if not matched:
                continue
            # What DuckDB's scan kept and what the last rewrites kept go back to the system first:
            # at 10M events the rewrite of the 2.2 GB landed Stripe file (0.7 GB) came on top of both.
            if sum(path.stat().st_size for path in matched) >= lake.RELEASE_BEFORE_BYTES:
                lake.release_memory(con)
            # pyarrow decodes and compresses without the GIL: one file per core at a time
            with ThreadPoolExecutor(REWRITE_THREADS) as pool:
                changes += pool.map(remove_rows, matched.keys(), matched.values())
    pa.default_memory_pool().release_unused()
    return changes, tags


def _schema_groups(con: duckdb.DuckDBPyConnection, files: list[Path]) -> list[list[Path]]:
    """Files of a folder that DuckDB can read together; a file it cannot read is skipped alone."""
    try:
        describe_files(con, files)
        return [files]
    except duckdb.Error:
        groups = []
        for path in files:
            try:
                describe_files(con, [path])
                groups.append([path])
            except duckdb.Error:
                continue
        return groups
