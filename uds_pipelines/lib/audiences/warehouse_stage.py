"""The warehouse stage: every table of `warehouse.WAREHOUSE_TABLES` read from the lake and
upserted by its key. KPIs come from the lake table `customer_kpis` where the catalog declares one
(the KPI stage writes it per currency), else they are computed as the `customer_kpis` asset
computes them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from numbers import Real

import pyarrow as pa

from uds_pipelines.lib import catalog, connection, lake, warehouse
from uds_pipelines.lib.audiences.definitions import load_audiences
from uds_pipelines.lib.audiences.plan import query_arrow
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.profiles.stage import build_kpis
from uds_pipelines.lib.segments.definitions import load_segments
from uds_pipelines.lib.warehouse import WAREHOUSE_TABLES, UpsertCounts

KPI_TABLE = "customer_kpis"
NOT_MONEY = ""  # the `currency` of a KPI that is a count, rate or score (a key column: never NULL)


@dataclass
class WarehouseStage:
    tables: dict[str, UpsertCounts]

    @property
    def rows_by_table(self) -> dict[str, int]:
        return {name: counts.rows for name, counts in self.tables.items()}

    def summary_markdown(self) -> str:
        """Rows, inserts, updates and deletes per table (the run's change set at a glance)."""
        lines = ["| table | rows | inserted | updated | deleted | rebuilt |", "|---|---:|---:|---:|---:|---|"]
        lines += [
            f"| {name} | {c.rows} | {c.inserted} | {c.updated} | {c.deleted} | {'yes' if c.rebuilt else ''} |"
            for name, c in self.tables.items()
        ]
        return "\n".join(lines)


def publish_warehouse_tables(settings: Settings) -> WarehouseStage:
    """Upsert every warehouse table, each in its own transaction (see `warehouse.upsert`)."""
    tables = read_sources(settings)
    if KPI_TABLE not in tables:
        tables[KPI_TABLE] = kpi_table(build_kpis(settings).figures, settings.as_of())
    return WarehouseStage(warehouse.upsert_tables(settings.warehouse_url, tables))


def read_sources(settings: Settings) -> dict[str, pa.Table]:
    """The lake rows of every warehouse table read from a lake table, with its `where` and
    `exclude` applied; `audience_members` only of the audiences whose destinations include `warehouse`."""
    segments, _ = load_segments(settings.segments_file)
    audiences, _ = load_audiences(settings.audiences_file, settings.purposes, [s.name for s in segments])
    to_warehouse = sorted(a.name for a in audiences if "warehouse" in a.destinations)
    con = connection.for_settings(settings, connection.DERIVED_LAYERS)
    try:
        tables = {}
        for spec in WAREHOUSE_TABLES.values():
            if spec.source not in catalog.TABLES:
                continue  # computed by the caller
            conditions = [spec.where] if spec.where else []
            if spec.name == "audience_members":
                conditions.append(f"audience IN ({lake.sql_literal_list(to_warehouse) or 'NULL'})")
            where = " WHERE " + " AND ".join(f"({c})" for c in conditions) if conditions else ""
            columns = spec.select or (f"* EXCLUDE ({', '.join(spec.exclude)})" if spec.exclude else "*")
            tables[spec.name] = query_arrow(con, f"SELECT {columns} FROM {spec.source}{where}")
    finally:
        con.close()
    return tables


def kpi_table(figures: Mapping[str, object] | Iterable[object], as_of: datetime) -> pa.Table:
    """KPI figures as rows `(as_of_date, kpi, currency, value)`.

    `figures` maps a KPI name to a number (or None: not computable) or to a mapping currency ->
    number, or is a sequence of rows with `kpi`, `currency` (None: not money) and `value`
    attributes; values that are not numbers are left out. Every shape is read so the table keeps
    its key whichever way the KPI stage reports money.
    """
    if isinstance(figures, Mapping):
        flat = [
            (name, currency, value)
            for name, figure in figures.items()
            for currency, value in (figure.items() if isinstance(figure, Mapping) else [(None, figure)])
        ]
    else:
        flat = [(k.kpi, k.currency, k.value) for k in figures]
    rows: list[tuple[str, str, float | None]] = [
        (str(name), str(currency or NOT_MONEY).upper(), None if value is None else float(value))
        for name, currency, value in flat
        if value is None or isinstance(value, Real)
    ]
    day = as_of.astimezone(UTC).date() if as_of.tzinfo else as_of.date()
    return pa.table(
        {
            "as_of_date": pa.array([day] * len(rows), pa.date32()),
            "kpi": pa.array([r[0] for r in rows], pa.string()),
            "currency": pa.array([r[1] for r in rows], pa.string()),
            "value": pa.array([r[2] for r in rows], pa.float64()),
        }
    )
