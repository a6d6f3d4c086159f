"""The daily KPI stage as a whole operation over the profiles (what the customer_kpis asset runs)."""

from __future__ import annotations

from dataclasses import dataclass

from uds_pipelines.lib import lake
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.profiles.kpis import kpis, new_buyers_by_month


@dataclass
class KpiStage:
    figures: dict[str, float | int | None]
    new_buyers_by_month: list[tuple[str, int]]


def build_kpis(settings: Settings) -> KpiStage:
    """Customers, active customers, churn, conversion, LTV and NPS as of UDS_AS_OF, and the monthly curve."""
    con = lake.duckdb_connection()
    try:
        figures = kpis(con, settings.lake_dir, settings.as_of())
        curve = new_buyers_by_month(con, settings.lake_dir, settings.as_of())
    finally:
        con.close()
    return KpiStage(figures, curve)
