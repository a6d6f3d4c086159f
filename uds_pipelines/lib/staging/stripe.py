"""Build the Stripe staging tables (lake/staging/stripe_*.parquet) from landed events, in DuckDB."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.config import DEFAULT_EXTERNAL_ID_FIELDS
from uds_pipelines.lib.ingest.external_ids import field_keys
from uds_pipelines.lib.ingest.stripe_landing.envelope import LANDED_COLUMNS
from uds_pipelines.lib.staging import stripe_sql

# Written in this order; consents read the checkout sessions view.
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
        landed = lake.read_table_sql(lake_dir / lake.LANDED_STRIPE, LANDED_COLUMNS)
        con.execute(f"CREATE OR REPLACE TEMP VIEW stripe_landed AS SELECT * FROM {landed}")
        keys = sorted(field_keys(tuple(external_id_fields)))
        con.execute(
            "CREATE OR REPLACE TEMP MACRO uds_external_id_keys() AS "
            f"[{lake.sql_literal_list(keys)}]::VARCHAR[]"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW stripe_checkout_sessions_v AS {stripe_sql.CHECKOUT_SESSIONS}"
        )
        counts = {}
        for table, sql in STRIPE_STAGING_TABLES.items():
            counts[table] = lake.copy_query_to_parquet(con, sql, staging_path(lake_dir, table))
        return counts
    finally:
        con.execute("DROP VIEW IF EXISTS stripe_checkout_sessions_v")
        con.execute("DROP VIEW IF EXISTS stripe_landed")
        con.execute("DROP MACRO IF EXISTS uds_external_id_keys")
        if own:
            con.close()
