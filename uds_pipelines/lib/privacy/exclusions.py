"""Customers that no segment or audience may contain: anyone whose customer id, email or phone
is on the suppression list (kept only as keyed hashes)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog
from uds_pipelines.lib.privacy.suppression import load_suppression, register_suppression, suppressed_sql
from uds_pipelines.lib.privacy.tables import fresh_views


def excluded_customers_sql(con: duckdb.DuckDBPyConnection, lake_dir: Path, key: bytes) -> str | None:
    """A relation of suppressed customer ids over the current profiles, or None when nobody is
    suppressed. Needs the `uds_*` normalization functions on `con`."""
    if not catalog.path(lake_dir, "customer_profiles").exists() or load_suppression(lake_dir, con).empty:
        return None
    register_suppression(con, key, lake_dir)
    fresh_views(con, lake_dir, "customer_profiles")
    return f"""(
        SELECT customer_id FROM customer_profiles
        WHERE {suppressed_sql("customer_id", "customer_id")}
           OR {suppressed_sql("email", "uds_email_key(email)")}
           OR {suppressed_sql("phone", "phone")}
    )"""
