"""Write a batch's landed rows into the day folders of `lake/events/` in one DuckDB pass.

One COPY ... PARTITION_BY (day, batch) scans the batch once, in parallel, and writes the files of
each (day, batch) into a private folder; each is then published under its lake name
(`day=<day>/events-<sha256[:24]>.parquet`) the way every lake file is: renamed into place (uploaded
on object storage), so a reader sees a whole file or none. One COPY per day would scan the batch
once per output file. DuckDB may write a partition as several files (past
`partitioned_write_max_open_files` open partitions, a closed one that gets more rows starts another
file): those are merged into one before publishing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, lake, lake_views, storage

TABLE = "events"
# DuckDB's own defaults, named so a test can make DuckDB split partitions into several files
FLUSH_ROWS, MAX_OPEN_FILES = 524_288, 100


def write_days(con: duckdb.DuckDBPyConnection, lake_dir: Path, select: str) -> dict[tuple[str, str], int]:
    """Write `select` (the catalog's columns, then `day` and `batch`: the output file's name without
    `.parquet`) as batch files of `events`; returns the rows written per (day, batch)."""
    described = con.execute(f"DESCRIBE {select}").fetchall()
    *columns, day, batch = [(row[0], row[1]) for row in described]
    if (day[0], batch[0]) != ("day", "batch"):
        raise ValueError("the select must end with the day and batch columns")
    lake_views.check_columns(catalog.table(TABLE), columns)
    folder = catalog.path(lake_dir, TABLE)
    staging = _staging_dir(folder)
    written: dict[tuple[str, str], int] = {}
    try:
        con.execute(f"SET partitioned_write_flush_threshold = {FLUSH_ROWS}")
        con.execute(f"SET partitioned_write_max_open_files = {MAX_OPEN_FILES}")
        con.execute(
            f"COPY ({select}) TO '{lake.sql_path(staging)}' "
            "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day, batch), OVERWRITE_OR_IGNORE)"
        )
        for day_dir in sorted(staging.iterdir()):
            for batch_dir in sorted(day_dir.iterdir()):
                files = sorted(batch_dir.glob("*.parquet"))
                if not files:
                    raise RuntimeError(f"events landing: no file written for {batch_dir}")
                written_file = files[0] if len(files) == 1 else _merge(con, files, batch_dir)
                day_value = day_dir.name.split("=", 1)[1]
                name = batch_dir.name.split("=", 1)[1]
                final = folder / f"day={day_value}" / f"{name}.parquet"
                written[(day_value, name)] = lake.parquet_row_count(written_file)
                _publish(written_file, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def _merge(con: duckdb.DuckDBPyConnection, files: list[Path], folder: Path) -> Path:
    merged = folder / "merged.parquet.tmp"
    con.execute(
        f"COPY (SELECT * FROM {lake.files_relation(files)}) TO '{lake.sql_path(merged)}' "
        "(FORMAT parquet, COMPRESSION zstd)"
    )
    return merged


def _staging_dir(folder: Path) -> Path:
    """A hidden folder beside the day folders (same filesystem: publishing is a rename; readers and
    `partitioned_batch_files` skip it), or a private local folder for an object-storage lake."""
    if storage.is_remote(folder):
        staging = lake.private_temp_path("events-write")
    else:
        staging = lake.temp_path_for(folder / "write")
    staging.mkdir(mode=0o700, parents=True)
    return staging


def _publish(written: Path, final: Path) -> None:
    if not storage.is_remote(final):
        storage.make_private_dirs(final.parent)
    lake.atomic_replace(written, final)
