"""Customer KPIs computed from profiles: rows of (kpi, currency, value) for the `customer_kpis`
table, metadata and dashboards.

Money KPIs are per currency (`currency` is the ISO code): an average over yen and dollars is no
number at all. Cross-currency money figures exist only in the reporting currency, as `*_reporting`
KPIs over `lifetime_value_reporting`; buyers without a rate are left out of them and counted
(`buyers_without_fx_rate`). KPIs that are not money (customers, rates, NPS) have no currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog
from uds_pipelines.lib.lake import timestamp_literal
from uds_pipelines.lib.profiles.currencies import money_kpis


@dataclass(frozen=True)
class Kpi:
    kpi: str
    currency: str | None  # upper-case ISO 4217 code; None: not a money figure
    value: float | int | None

    @property
    def key(self) -> str:
        """A flat metadata key: `churn_rate`, `average_ltv_jpy`, `average_ltv_reporting_usd`."""
        return self.kpi if self.currency is None else f"{self.kpi}_{self.currency.lower()}"


def _profiles_written(lake_dir: Path) -> bool:
    """Whether customer profiles were ever written (an empty table still has figures: zero)."""
    return catalog.path(lake_dir, "customer_profiles").exists()


def kpis(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, as_of: datetime, reporting: str = "USD"
) -> list[Kpi]:
    """Customers, active customers (last order within 30/90 days), buyers, churn rate (buyers with
    no order for 90 days over all buyers), conversion rate (people with a form or survey sign-up
    whose first payment came at or after their first sign-up, over everyone who signed up) and NPS
    (% promoters minus % detractors among people with a score); then, per currency, buyers and the
    total, average and median lifetime value (`currencies.money_kpis`), and the same in `reporting`.

    Reads the view `customer_profiles` on `con` (`connection.connect(lake_dir)`)."""
    if not _profiles_written(lake_dir):
        return [Kpi("customers", None, 0)]
    t = timestamp_literal(as_of)
    row = con.execute(
        f"""
        SELECT count(*) AS customers,
               count(*) FILTER (WHERE last_order_at >= {t} - INTERVAL 30 DAY) AS active_30d,
               count(*) FILTER (WHERE last_order_at >= {t} - INTERVAL 90 DAY) AS active_90d,
               count(*) FILTER (WHERE orders_count > 0) AS buyers,
               count(*) FILTER (WHERE orders_count > 0 AND last_order_at < {t} - INTERVAL 90 DAY) AS churned,
               count(*) FILTER (WHERE first_signup_at IS NOT NULL) AS signed_up,
               count(*) FILTER (WHERE first_signup_at IS NOT NULL AND orders_count > 0
                                  AND first_order_at >= first_signup_at) AS converted,
               count(nps_latest) AS nps_respondents,
               count(*) FILTER (WHERE nps_latest >= 9) AS promoters,
               count(*) FILTER (WHERE nps_latest <= 6) AS detractors
        FROM customer_profiles
        """
    ).fetchone()
    names = [d[0] for d in con.description]
    raw = dict(zip(names, row, strict=False))
    buyers, signed_up, respondents = raw["buyers"], raw["signed_up"], raw["nps_respondents"]
    overall = {
        "customers": int(raw["customers"]),
        "active_customers_30d": int(raw["active_30d"]),
        "active_customers_90d": int(raw["active_90d"]),
        "buyers": int(buyers),
        "churn_rate": round(raw["churned"] / buyers, 4) if buyers else None,
        "conversion_rate": round(raw["converted"] / signed_up, 4) if signed_up else None,
        "nps": round(100.0 * (raw["promoters"] - raw["detractors"]) / respondents, 1)
        if respondents
        else None,
        "nps_respondents": int(respondents),
    }
    money = [Kpi(kpi, currency, value) for kpi, currency, value in money_kpis(con, reporting.upper())]
    return [Kpi(name, None, value) for name, value in overall.items()] + money


def new_buyers_by_month(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, as_of: datetime, months: int = 12
) -> list[tuple[str, int]]:
    """People whose first order fell in each of the last `months` calendar months (oldest first,
    months without any included), the acquisition curve behind the conversion rate.
    Reads the view `customer_profiles` on `con`."""
    if not _profiles_written(lake_dir):
        return []
    t = timestamp_literal(as_of)
    rows = con.execute(
        f"""
        WITH months AS (
            SELECT date_trunc('month', {t} - to_months(i)) AS month
            FROM range({int(months)}) AS r(i)
        ), firsts AS (
            SELECT date_trunc('month', first_order_at) AS month, count(*) AS n
            FROM customer_profiles
            WHERE first_order_at IS NOT NULL AND first_order_at <= {t}
            GROUP BY 1
        )
        SELECT strftime(m.month, '%Y-%m'), coalesce(f.n, 0)
        FROM months m LEFT JOIN firsts f ON f.month = m.month
        ORDER BY m.month
        """
    ).fetchall()
    return [(month, int(n)) for month, n in rows]


def bar_chart_markdown(rows: list[tuple[str, int]], label: str, width: int = 30) -> str:
    """A small bar chart as a markdown table (the Dagster UI renders markdown, not images)."""
    if not rows:
        return f"No {label} yet."
    top = max(n for _, n in rows) or 1
    lines = [f"| month | {label} | |", "|---|---:|---|"]
    lines += [f"| {key} | {n} | {'█' * round(width * n / top) or ('▏' if n else '')} |" for key, n in rows]
    return "\n".join(lines)


def kpi_markdown(rows: list[Kpi]) -> str:
    """The KPIs without a currency, then one line per currency of buyers and lifetime value, then
    the reporting-currency line (money never shown in a column that mixes currencies)."""
    lines = ["| KPI | value |", "|---|---|"]
    lines += [f"| {k.kpi} | {_cell(k.value)} |" for k in rows if k.currency is None]
    money = [k for k in rows if k.currency is not None]
    if money:
        lines += [
            "",
            "| currency | buyers | total LTV | average LTV | median LTV |",
            "|---|---:|---:|---:|---:|",
        ]
        for suffix, label in (("", "{}"), ("_reporting", "all buyers, in {} (reporting)")):
            cells = {
                (k.kpi.removesuffix(suffix), k.currency): k.value for k in money if k.kpi.endswith(suffix)
            }
            for currency in dict.fromkeys(k.currency for k in money if k.kpi == f"buyers{suffix}"):
                figures = [
                    _cell(cells.get((name, currency)))
                    for name in ("buyers", "total_ltv", "average_ltv", "median_ltv")
                ]
                lines.append(f"| {label.format(currency)} | {' | '.join(figures)} |")
        left_out = sum(k.value or 0 for k in money if k.kpi == "buyers_without_fx_rate")
        if left_out:
            lines += ["", f"{int(left_out)} buyer(s) paid in a currency without a rate (UDS_FX_RATES): "
                      "left out of the reporting line."]  # fmt: skip
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "n/a"
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
