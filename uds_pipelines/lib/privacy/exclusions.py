"""Customers that no segment or audience may contain: anyone whose customer id, email or phone
is on the suppression list (kept only as keyed hashes)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog
from uds_pipelines.lib.privacy.suppression import load_suppression, register_suppression, suppressed_sql
from uds_pipelines.lib.privacy.tables import fresh_views

EXCLUDED_TABLE = "_uds_excluded_customers"


def excluded_customers_sql(con: duckdb.DuckDBPyConnection, lake_dir: Path, key: bytes) -> str | None:
    """A table of suppressed customer ids over the current profiles (a temp table on `con`), or None
    when nobody is suppressed. Needs the `uds_*` normalization functions on `con`."""
    if not catalog.path(lake_dir, "customer_profiles").exists() or load_suppression(lake_dir, con).empty:
        return None
    register_suppression(con, key, lake_dir)
    fresh_views(con, lake_dir, "customer_profiles")
    # Computed once here, not once per audience that reads it: every profile's identifiers are
    # keyed-hashed in Python.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {EXCLUDED_TABLE} AS
        SELECT customer_id FROM customer_profiles
        WHERE {suppressed_sql("customer_id", "customer_id")}
           OR {suppressed_sql("email", "uds_email_key(email)")}
           OR {suppressed_sql("phone", "phone")}
        """
    )
    return EXCLUDED_TABLE
