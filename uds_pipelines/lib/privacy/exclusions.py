"""Customers that no segment or audience may contain: anyone whose customer id, email or phone
is on the suppression list (kept only as keyed hashes)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog
from uds_pipelines.lib.privacy.suppression import load_suppression, register_suppression, suppressed_sql
from uds_pipelines.lib.privacy.tables import fresh_views

EXCLUDED_TABLE = "_uds_excluded_customers"


def excluded_customers_sql(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, key: bytes, among: str | None = None
) -> str | None:
    """A table of suppressed customer ids over the current profiles (a temp table on `con`), or None
    when nobody is suppressed. Needs the `uds_*` normalization functions on `con`.

    `among`, a relation with a `customer_id` column, limits the check to those customers: a stage
    that only reads the segment members or the audience members hashes their identifiers, not
    every profile's (a million profiles cost about 3 s a stage)."""
    if not catalog.path(lake_dir, "customer_profiles").exists() or load_suppression(lake_dir, con).empty:
        return None
    register_suppression(con, key, lake_dir)
    fresh_views(con, lake_dir, "customer_profiles")
    profiles = "customer_profiles"
    if among:
        # a table first: DuckDB would push the hashing filter below a join, onto every profile
        profiles = f"{EXCLUDED_TABLE}_among"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {profiles} AS SELECT customer_id, email, phone FROM customer_profiles "
            f"WHERE customer_id IN (SELECT customer_id FROM {among} AS a)"
        )
    # Computed once here, not once per audience that reads it: each profile's identifiers are
    # normalized and keyed-hashed.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {EXCLUDED_TABLE} AS
        SELECT customer_id FROM {profiles}
        WHERE {suppressed_sql("customer_id", "customer_id")}
           OR {suppressed_sql("email", "uds_email_key(email)")}
           OR {suppressed_sql("phone", "phone")}
        """
    )
    if among:
        con.execute(f"DROP TABLE {profiles}")
    return EXCLUDED_TABLE
