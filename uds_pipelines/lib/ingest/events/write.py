"""Write a batch's landed rows into the day folders of `lake/events/` in one DuckDB pass.

One COPY ... PARTITION_BY (day, batch) scans the batch once, in parallel, and writes one file per
(day, input file) into a private folder; each file is then published under its lake name
(`day=<day>/events-<sha256[:24]>.parquet`) the way every lake file is: renamed into place (uploaded
on object storage), so a reader sees a whole file or none. One COPY per (file, day) would scan the
batch once per output file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, lake, lake_views, storage

TABLE = "events"


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
        con.execute(
            f"COPY ({select}) TO '{lake.sql_path(staging)}' "
            "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day, batch), OVERWRITE_OR_IGNORE)"
        )
        for day_dir in sorted(staging.iterdir()):
            for batch_dir in sorted(day_dir.iterdir()):
                files = list(batch_dir.glob("*.parquet"))
                if len(files) != 1:  # DuckDB writes one file per partition; anything else is a surprise
                    raise RuntimeError(f"events landing: {len(files)} files written for {batch_dir}")
                day_value = day_dir.name.split("=", 1)[1]
                name = batch_dir.name.split("=", 1)[1]
                final = folder / f"day={day_value}" / f"{name}.parquet"
                written[(day_value, name)] = lake.parquet_row_count(files[0])
                _publish(files[0], final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


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
