"""Build the Stripe staging tables (`stripe_*` in the catalog) from the landed events, in DuckDB."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, lake, lake_views
from uds_pipelines.lib.config import DEFAULT_EXTERNAL_ID_FIELDS
from uds_pipelines.lib.ingest.external_ids import field_keys
from uds_pipelines.lib.staging import stripe_sql

# Written in this order; consents read the checkout sessions table.
STRIPE_STAGING_TABLES: dict[str, str] = {
    "stripe_events": stripe_sql.EVENTS,
    "stripe_customers": stripe_sql.CUSTOMERS,
    "stripe_charges": stripe_sql.CHARGES,
    "stripe_refunds": stripe_sql.REFUNDS,
    "stripe_invoices": stripe_sql.INVOICES,
    "stripe_subscriptions": stripe_sql.SUBSCRIPTIONS,
    "stripe_checkout_sessions": stripe_sql.CHECKOUT_SESSIONS,
    "stripe_consents": stripe_sql.CONSENTS,
}


def staging_path(lake_dir: Path, table: str) -> Path:
    return catalog.path(lake_dir, table)


def build_stripe_staging(
    lake_dir: Path,
    con: duckdb.DuckDBPyConnection | None = None,
    external_id_fields: Sequence[str] = DEFAULT_EXTERNAL_ID_FIELDS,
) -> dict[str, int]:
    """Replace every Stripe staging table atomically; returns the row count per table.

    Works before anything has landed: the tables are then empty but typed. A customer's
    `metadata` key named in `external_id_fields` (`Settings.external_id_fields`) gives its
    `external_id`."""
    own = con is None
    con = con or lake.duckdb_connection()
    try:
        lake_views.register(con, lake_dir, ["landed_stripe"])
        keys = sorted(field_keys(tuple(external_id_fields)))
        con.execute(
            "CREATE OR REPLACE TEMP MACRO uds_external_id_keys() AS "
            f"[{lake.sql_literal_list(keys)}]::VARCHAR[]"
        )
        counts = {}
        for table, sql in STRIPE_STAGING_TABLES.items():
            counts[table] = lake_views.write_query(con, lake_dir, table, sql)  # refreshes the table's view
        return counts
    finally:
        con.execute("DROP MACRO IF EXISTS uds_external_id_keys")
        if own:
            con.close()
