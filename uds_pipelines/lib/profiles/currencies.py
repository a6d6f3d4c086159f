"""Per-currency figures over profiles: who has no reporting-currency value, and revenue KPIs per
currency. Amounts in different currencies are never added or averaged together; only
`lifetime_value_reporting` (already converted) crosses currencies (docs/currencies.md)."""

from __future__ import annotations

from datetime import date

import duckdb

from uds_pipelines.lib import fx, lake

# Every currency a person paid in, with that currency's net total (a person paying in two
# currencies counts in both): `lifetime_value_by_currency` unnested.
PAID_SQL = """
    SELECT customer_id, e.key AS currency, e.value AS total
    FROM (SELECT customer_id, unnest(map_entries(lifetime_value_by_currency::JSON::MAP(VARCHAR, DOUBLE))) AS e
          FROM customer_profiles WHERE orders_count > 0 AND lifetime_value_by_currency IS NOT NULL)
"""


def profiles_without_rate(con: duckdb.DuckDBPyConnection, rated: set[str]) -> dict[str, int]:
    """Per upper-case currency without a rate (not in `rated`, lower-case codes), the profiles
    whose `lifetime_value_reporting` is NULL because of it."""
    known = lake.sql_literal_list(sorted(rated)) or "NULL"
    rows = con.execute(
        f"""SELECT upper(currency), count(DISTINCT customer_id) FROM ({PAID_SQL})
            WHERE currency NOT IN ({known}) GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    return {currency: int(n) for currency, n in rows}


def rates_used(rates: dict[str, tuple[float, date]]) -> dict[str, dict]:
    """The rates a run used, for metadata: {currency: {rate, date}}."""
    return {c.upper(): {"rate": rate, "date": day.isoformat()} for c, (rate, day) in sorted(rates.items())}


def missing_rate_warning(without: dict[str, int], reporting: str) -> str | None:
    """The warning for profiles without a reporting-currency value, or None when every one has it."""
    if not without:
        return None
    counts = ", ".join(f"{currency}: {n}" for currency, n in sorted(without.items()))
    return (
        f"{sum(without.values())} profile(s) have no lifetime_value_reporting: UDS_FX_RATES has no rate "
        f"to {reporting} on or before the as-of day for {counts} (profiles per currency). They are left out "
        f"of reporting-currency segments and totals until a rate is added."
    )


def money_kpis(con: duckdb.DuckDBPyConnection, reporting: str) -> list[tuple[str, str, float | None]]:
    """(kpi, currency, value) rows: per currency paid in, `buyers` (people with an order in it),
    `total_ltv`, `average_ltv`, `median_ltv` of their net totals in it; then, in `reporting`,
    the same over `lifetime_value_reporting` (`*_reporting`), and `buyers_without_fx_rate`, the
    buyers those leave out. Amounts are rounded to their currency's decimals."""
    rows: list[tuple[str, str, float | None]] = []
    per_currency = con.execute(
        f"""SELECT upper(currency), count(*), sum(total), avg(total), median(total)
            FROM ({PAID_SQL}) GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    for currency, buyers, total, average, median in per_currency:
        rows += _money_rows("", currency, buyers, total, average, median)
    buyers, total, average, median, missing = con.execute(
        """SELECT count(lifetime_value_reporting), sum(lifetime_value_reporting),
                  avg(lifetime_value_reporting), median(lifetime_value_reporting),
                  count(*) FILTER (WHERE lifetime_value_reporting IS NULL)
           FROM customer_profiles WHERE orders_count > 0"""
    ).fetchone()
    rows += _money_rows("_reporting", reporting, buyers, total, average, median)
    rows.append(("buyers_without_fx_rate", reporting, float(missing)))
    return rows


def _money_rows(
    suffix: str, currency: str, buyers, total, average, median
) -> list[tuple[str, str, float | None]]:
    places = fx.decimals(currency)

    def money(value) -> float | None:
        return None if value is None else round(float(value), places)

    return [
        (f"buyers{suffix}", currency, float(buyers)),
        (f"total_ltv{suffix}", currency, money(total) if buyers else 0.0),
        (f"average_ltv{suffix}", currency, money(average)),
        (f"median_ltv{suffix}", currency, money(median)),
    ]
