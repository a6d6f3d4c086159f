"""The warehouse stage: every table of `warehouse.WAREHOUSE_TABLES` read from the lake (the KPIs
computed as the `customer_kpis` asset computes them) and upserted by its key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from numbers import Real

import pyarrow as pa

from uds_pipelines.lib import connection, lake, warehouse
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
    tables[KPI_TABLE] = kpi_table(build_kpis(settings).figures, settings.as_of())
    return WarehouseStage(warehouse.upsert_tables(settings.warehouse_url, tables))


def read_sources(settings: Settings) -> dict[str, pa.Table]:
    """The lake rows of every warehouse table read from a lake table, with its `where` and
    `exclude` applied; `audience_members` only of the audiences whose destinations include `warehouse`."""
    segments, _ = load_segments(settings.segments_file)
    audiences, _ = load_audiences(settings.audiences_file, settings.purposes, [s.name for s in segments])
    to_warehouse = sorted(a.name for a in audiences if "warehouse" in a.destinations)
    con = connection.for_settings(settings)
    try:
        tables = {}
        for spec in WAREHOUSE_TABLES.values():
            if spec.name == KPI_TABLE:
                continue
            conditions = [spec.where] if spec.where else []
            if spec.name == "audience_members":
                conditions.append(f"audience IN ({lake.sql_literal_list(to_warehouse) or 'NULL'})")
            where = " WHERE " + " AND ".join(f"({c})" for c in conditions) if conditions else ""
            columns = f"* EXCLUDE ({', '.join(spec.exclude)})" if spec.exclude else "*"
            tables[spec.name] = query_arrow(con, f"SELECT {columns} FROM {spec.source}{where}")
    finally:
        con.close()
    return tables


def kpi_table(figures: Mapping[str, object], as_of: datetime) -> pa.Table:
    """KPI figures as rows `(as_of_date, kpi, currency, value)`.

    A figure is a number (or None: not computable), or a mapping currency -> number for a KPI
    given per currency; anything else (text, nested structures) is left out. Both shapes are
    read so the table keeps its key whichever way the KPI stage reports money.
    """
    rows: list[tuple[str, str, float | None]] = []
    for name, figure in figures.items():
        per_currency = figure.items() if isinstance(figure, Mapping) else [(NOT_MONEY, figure)]
        for currency, value in per_currency:
            if value is None or isinstance(value, Real):
                rows.append((str(name), str(currency).upper(), None if value is None else float(value)))
    day = as_of.astimezone(UTC).date() if as_of.tzinfo else as_of.date()
    return pa.table(
        {
            "as_of_date": pa.array([day] * len(rows), pa.date32()),
            "kpi": pa.array([r[0] for r in rows], pa.string()),
            "currency": pa.array([r[1] for r in rows], pa.string()),
            "value": pa.array([r[2] for r in rows], pa.float64()),
        }
    )
