"""The lake catalog as Dagster asset specs: one asset key per catalog table, named as the table.

Every spec carries what a newcomer asks of a table in the UI: its one-line description, its
columns (`dagster/column_schema`, DuckDB types, personal columns tagged), its lake-relative path
(`table_path`), the DuckDB view name stage connections see it under (`dagster/table_name`) and the
step(s) that write it (`written_by`).

Most tables are written by exactly one step, and are outputs of that step's (multi-)asset. The
append-only folders several landing steps write (`landed_consent`, `landed_files`, `quarantine`:
catalog tables with `also_written_by`) cannot be the output of several ops, so they are external
asset specs (`SHARED_FOLDER_SPECS`): their deps are the tables of the steps that feed them, and
each of those steps reports an `AssetMaterialization` on them when it appended rows.

Steps that change rows of tables they do not own (erasure, retention, access-request auditing)
report an `AssetObservation` on each table they rewrote (`rows_removed_observations`), so the
table's own timeline says who removed what, without claiming a new materialization of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.lib import catalog, lake_views

PERSONAL = "personal"


def table_path(name: str) -> str:
    """`lake/identity/identity_map.parquet`, or `lake/quarantine/` for a folder table."""
    t = catalog.table(name)
    return f"lake/{t.path}" + ("/" if t.kind == "folder" else "")


def is_shared(name: str) -> bool:
    """A folder several steps append to: an external asset the writers report on."""
    t = catalog.table(name)
    return t.kind == "folder" and bool(t.also_written_by)


def _column_description(t: catalog.Table, column: str) -> str | None:
    note = catalog.COLUMN_NOTES.get(t.name, {}).get(column)
    if column not in t.personal:
        return note
    return f"{note} (personal data)" if note else "personal data"


def column_schema(name: str) -> dg.TableSchema:
    """The catalog schema in DuckDB types, with the catalog's column notes; personal columns are
    tagged `personal` and say so in their description."""
    t = catalog.table(name)
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=f.name,
                type=catalog.duckdb_type(f.type),
                description=_column_description(t, f.name),
                tags={PERSONAL: ""} if f.name in t.personal else None,
            )
            for f in t.schema
        ]
    )


def table_metadata(name: str) -> dict:
    t = catalog.table(name)
    return {
        "dagster/column_schema": column_schema(name),
        "dagster/table_name": t.name,
        "table_path": table_path(name),
        "table_kind": t.kind,
        "layer": t.layer,
        "written_by": ", ".join((t.owner, *t.also_written_by)),
        "personal_columns": ", ".join(t.personal) or "none",
    } | (
        {"table_notes": dg.MetadataValue.md(catalog.TABLE_NOTES[name])} if name in catalog.TABLE_NOTES else {}
    )


def table_spec(
    name: str,
    *,
    group: str,
    kinds: set[str],
    deps: Iterable[str] = (),
    description: str | None = None,
) -> dg.AssetSpec:
    """The asset spec of catalog table `name` (description from the catalog unless given)."""
    t = catalog.table(name)
    return dg.AssetSpec(
        key=name,
        description=description or t.description,
        metadata=table_metadata(name),
        group_name=group,
        kinds=kinds,
        owners=c.OWNERS,
        # `uds/step` selects a multi-table step whole (`dg launch --assets 'tag:uds/step=stripe_staging'`):
        # a step cannot run for one of its tables alone
        tags={"uds/layer": t.layer} | ({} if is_shared(name) else {"uds/step": t.owner}),
        deps=[d for d in deps if d != name],
    )


def table_specs(
    names: Iterable[str], *, group: str, kinds: set[str], deps: Iterable[str] = ()
) -> list[dg.AssetSpec]:
    deps = list(deps)
    return [table_spec(n, group=group, kinds=kinds, deps=deps) for n in names]


def tables_of_step(step: str) -> list[str]:
    """The catalog tables a step materializes (those it owns, shared folders aside)."""
    return [n for n, t in catalog.TABLES.items() if t.owner == step and not is_shared(n)]


def _shared_folder_spec(name: str) -> dg.AssetSpec:
    t = catalog.table(name)
    feeders = [table for step in (t.owner, *t.also_written_by) for table in tables_of_step(step)]
    return table_spec(
        name,
        group=c.GROUP_INGEST,
        kinds={"parquet"},
        deps=feeders,
        description=f"{t.description} Appended to by {', '.join((t.owner, *t.also_written_by))}.",
    )


SHARED_FOLDER_SPECS = [_shared_folder_spec(n) for n in catalog.TABLES if is_shared(n)]


def file_table_result(lake_dir: Path, name: str, rows: int | None = None, **metadata) -> dg.MaterializeResult:
    """The materialization of single-file table `name`, with its row count (read from the file
    when the stage did not return it)."""
    count = lake_views.row_count(lake_dir, name) if rows is None else int(rows)
    return dg.MaterializeResult(asset_key=name, metadata={"dagster/row_count": count, **metadata})


def table_for_label(label: str) -> str | None:
    """The catalog table of a lake-relative label (`landed/stripe`, `identity/identity_map`,
    with or without `.parquet`)."""
    label = label.strip("/").removesuffix(".parquet")
    for name, t in catalog.TABLES.items():
        if t.path.removesuffix(".parquet") == label:
            return name
    return None


def rows_removed_observations(removed: Mapping[str, int], by: str, run_id: str) -> list[dg.AssetObservation]:
    """One observation per catalog table `by` removed rows from (labels are lake-relative paths)."""
    per_table: dict[str, int] = {}
    for label, rows in removed.items():
        name = table_for_label(label)
        if name is not None and rows:
            per_table[name] = per_table.get(name, 0) + int(rows)
    return [
        dg.AssetObservation(
            asset_key=name,
            description=f"{rows} row(s) removed by {by}",
            metadata={"rows_removed": rows, "removed_by": by, "run_id": run_id},
        )
        for name, rows in sorted(per_table.items())
    ]

