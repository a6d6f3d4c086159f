"""Customer KPIs computed from profiles, as plain numbers for metadata and dashboards."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog
from uds_pipelines.lib.lake import timestamp_literal


def _profiles_written(lake_dir: Path) -> bool:
    """Whether customer profiles were ever written (an empty table still has figures: zero)."""
    return catalog.path(lake_dir, "customer_profiles").exists()


def kpis(con: duckdb.DuckDBPyConnection, lake_dir: Path, as_of: datetime) -> dict[str, float | int | None]:
    """Customers, active customers (last order within 30/90 days), churn rate (buyers with no
    order for 90 days over all buyers), conversion rate (people with a form or survey sign-up whose
    first payment came at or after their first sign-up, over everyone who signed up), average and median lifetime value of
    buyers, and NPS (% promoters minus % detractors among people with a score).

    Reads the view `customer_profiles` on `con` (`connection.connect(lake_dir)`)."""
    if not _profiles_written(lake_dir):
        return {"customers": 0}
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
               avg(lifetime_value) FILTER (WHERE orders_count > 0) AS avg_ltv,
               median(lifetime_value) FILTER (WHERE orders_count > 0) AS median_ltv,
               count(nps_latest) AS nps_respondents,
               count(*) FILTER (WHERE nps_latest >= 9) AS promoters,
               count(*) FILTER (WHERE nps_latest <= 6) AS detractors
        FROM customer_profiles
        """
    ).fetchone()
    names = [d[0] for d in con.description]
    raw = dict(zip(names, row, strict=False))
    buyers, signed_up, respondents = raw["buyers"], raw["signed_up"], raw["nps_respondents"]
    return {
        "customers": int(raw["customers"]),
        "active_customers_30d": int(raw["active_30d"]),
        "active_customers_90d": int(raw["active_90d"]),
        "buyers": int(buyers),
        "churn_rate": round(raw["churned"] / buyers, 4) if buyers else None,
        "conversion_rate": round(raw["converted"] / signed_up, 4) if signed_up else None,
        "average_ltv": round(float(raw["avg_ltv"]), 2) if raw["avg_ltv"] is not None else None,
        "median_ltv": round(float(raw["median_ltv"]), 2) if raw["median_ltv"] is not None else None,
        "nps": round(100.0 * (raw["promoters"] - raw["detractors"]) / respondents, 1)
        if respondents
        else None,
        "nps_respondents": int(respondents),
    }


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


def kpi_markdown(figures: dict) -> str:
    lines = ["| KPI | value |", "|---|---|"]
    lines += [f"| {name} | {'n/a' if value is None else value} |" for name, value in figures.items()]
    return "\n".join(lines)
