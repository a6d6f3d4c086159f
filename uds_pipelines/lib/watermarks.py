"""Which landed batches a step has merged into its durable state: its watermark.

A step that keeps durable state (Stripe staging, identity inputs) merges only the batch files of
a landed table that its watermark does not list, then records them. The watermark is the set of
merged batch names, not a time: batches can land out of order (a re-sent file, a backfill), and a
name is never reused (`lake.new_batch_name`).

Crash safety comes from idempotent merges, not from a multi-file transaction: a step writes its
state tables first and its watermark last, and merging a batch twice gives what merging it once
gave. A crash anywhere before the watermark is written replays those batches on the next run and
ends with the same tables. Retention asks `unmerged` before deleting raw rows, so it never
deletes a row no step has taken its facts from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from uds_pipelines.lib import catalog, lake_views, storage

TABLE = "stage_watermarks"
# landed table -> the steps that keep durable state from it (retention waits for all of them)
CONSUMERS: dict[str, tuple[str, ...]] = {
    "landed_stripe": ("stripe_staging",),
    "landed_forms": ("identity_inputs",),
    "landed_survey_responses": ("identity_inputs",),
    # the consent changes of events about to expire are kept as facts first (`consent.history`)
    "events": ("consent_ledger",),
}


@dataclass(frozen=True)
class PendingBatches:
    """The batch files of `table` that `step` has not merged yet (sorted by name)."""

    step: str
    table: str
    files: tuple[Path, ...]

    @property
    def names(self) -> list[str]:
        return [batch_name(f) for f in self.files]

    def relation(self, con: duckdb.DuckDBPyConnection) -> str:
        """A parenthesized SELECT of these files, read as the table's view reads all of its files."""
        return f"({lake_views.batches_sql(con, self.table, self.files)})"


def merged(con: duckdb.DuckDBPyConnection, lake_dir: Path, step: str, table: str) -> set[str]:
    """The batch names of `table` that `step` has merged."""
    lake_views.register(con, lake_dir, [TABLE])
    rows = con.execute(
        f"SELECT batch FROM {TABLE} WHERE step = ? AND source_table = ?", [step, table]
    ).fetchall()
    return {r[0] for r in rows}


def batch_name(path: Path) -> str:
    """A batch's name: its file name, with its partition folder in a partitioned table (one landing
    writes a file of one name into every day it holds)."""
    return f"{path.parent.name}/{path.name}" if "=" in path.parent.name else path.name


def present(lake_dir: Path, table: str) -> set[str]:
    """The names of `table`'s batches as they are now."""
    return {batch_name(f) for f in lake_views.table_files(lake_dir, table)}


def pending(con: duckdb.DuckDBPyConnection, lake_dir: Path, step: str, table: str) -> PendingBatches:
    done = merged(con, lake_dir, step, table)
    files = lake_views.table_files(lake_dir, table)
    return PendingBatches(step, table, tuple(f for f in files if batch_name(f) not in done))


def commit(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, step: str, merged_now: Iterable[PendingBatches]
) -> None:
    """Record the batches just merged, with those merged before that still exist (a batch that
    retention or erasure deleted whole cannot come back, so its name is let go); the step's rows
    for other landed tables stay as they are."""
    lake_views.register(con, lake_dir, [TABLE])
    kept = con.execute(f"SELECT source_table, batch FROM {TABLE} WHERE step = ?", [step]).fetchall()
    names: dict[str, set[str]] = {}
    for table, batch in kept:
        names.setdefault(table, set()).add(batch)
    for batches in merged_now:
        kept_now = names.get(batches.table, set()) & present(lake_dir, batches.table)
        names[batches.table] = kept_now | set(batches.names)
    rows = sorted((table, batch) for table, batches in names.items() for batch in batches)
    frame = pa.table(
        {
            "step": pa.array([step] * len(rows), pa.string()),
            "source_table": pa.array([r[0] for r in rows], pa.string()),
            "batch": pa.array([r[1] for r in rows], pa.string()),
        }
    )
    lake_views.write_arrow(lake_dir, TABLE, frame, batch_name=_file(step), con=con)


def reset(lake_dir: Path, step: str) -> None:
    """Forget what `step` merged: its next run merges every batch again (a full rebuild)."""
    catalog.path(lake_dir, TABLE).joinpath(_file(step)).unlink(missing_ok=True)


def forget(lake_dir: Path, step: str, state_tables: Iterable[str]) -> None:
    """Delete `step`'s watermark, then its state tables: a crash in between merges every batch into
    the old state on the next run, which is idempotent."""
    reset(lake_dir, step)
    for table in state_tables:
        location = catalog.path(lake_dir, table)
        if catalog.table(table).kind == "folder":
            for path in storage.walk_files(location, include_hidden=True):
                storage.remove(path)
        elif location.exists():
            storage.remove(location)


def unmerged(con: duckdb.DuckDBPyConnection, lake_dir: Path, table: str) -> set[str]:
    """Batch names of `table` that some consumer step has not merged yet."""
    waiting: set[str] = set()
    for step in CONSUMERS.get(table, ()):
        waiting |= set(pending(con, lake_dir, step, table).names)
    return waiting


def _file(step: str) -> str:
    # one file per step: steps run in parallel and must not overwrite each other's watermark
    return f"{step}.parquet"
