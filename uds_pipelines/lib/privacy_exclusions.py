"""Customers that no segment or audience may contain: erased people still in a stale table."""

from __future__ import annotations

from pathlib import Path

ERASED_CUSTOMERS = "privacy/erased_customers.parquet"


def excluded_customers_sql(lake_dir: Path) -> str | None:
    """A relation of customer ids erased by privacy requests, or None when there are none.

    Erasure removes people from every table; this list keeps them out of segments and audiences
    even when a table was built from inputs read before the erasure finished.
    """
    path = lake_dir / ERASED_CUSTOMERS
    return f"(SELECT customer_id FROM read_parquet('{path}'))" if path.exists() else None
