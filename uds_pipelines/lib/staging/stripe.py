"""Merge newly landed Stripe events into the Stripe staging tables (`stripe_*` in the catalog).

The staging tables are durable state: a run reads only the landed batches the step's watermark
does not list (`lib.watermarks`), works out per object which new event beats the staged version
(`stripe_versions`: Stripe's order, `created` then event id, whatever the arrival order) and
rewrites the rows of those objects only. Merging is idempotent, so a crash at any point replays
cleanly, and a rebuild (every batch merged into empty state) gives the same tables as merging
them run by run.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, keyed_parts, lake, lake_views, locks, storage, watermarks
from uds_pipelines.lib.config import DEFAULT_EXTERNAL_ID_FIELDS
from uds_pipelines.lib.ingest.external_ids import field_keys
from uds_pipelines.lib.staging import stripe_sql, stripe_tables_sql

STEP = "stripe_staging"
SOURCE = "landed_stripe"

# table -> SQL of its changed rows, merged in this order (consents read the checkout sessions just
# merged); each is keyed in the catalog. stripe_events only appends (a batch per merge);
# stripe_versions is written last.
STRIPE_STAGING_TABLES: dict[str, str] = {
    "stripe_customers": stripe_tables_sql.CUSTOMERS,
    "stripe_charges": stripe_tables_sql.CHARGES,
    "stripe_refunds": stripe_tables_sql.REFUNDS,
    "stripe_invoices": stripe_tables_sql.INVOICES,
    "stripe_subscriptions": stripe_tables_sql.SUBSCRIPTIONS,
    "stripe_checkout_sessions": stripe_tables_sql.CHECKOUT_SESSIONS,
    "stripe_consents": stripe_tables_sql.CONSENTS,
}
STATE_TABLES = ("stripe_events", *STRIPE_STAGING_TABLES, "stripe_versions")
_VIEWS = ("_stripe_candidates", "_stripe_new")
_TEMP = ("_stripe_won_keys", "_stripe_won", "_stripe_versions_next", "_stripe_fresh")


def build_stripe_staging(
    lake_dir: Path,
    con: duckdb.DuckDBPyConnection | None = None,
    external_id_fields: Sequence[str] = DEFAULT_EXTERNAL_ID_FIELDS,
    rebuild: bool = False,
    memory_limit: str = lake.DEFAULT_MEMORY_LIMIT,
    lock_dir: Path | None = None,
) -> dict[str, int]:
    """Merge the Stripe batches landed since the last run; returns the row count per table.

    `rebuild` forgets the state first and merges every landed batch (events retention already
    deleted are then gone from the result). Works before anything has landed: the tables are then
    empty but typed. A customer's `metadata` key named in `external_id_fields`
    (`Settings.external_id_fields`) gives its `external_id`. `memory_limit` is DuckDB's for a
    connection opened here (`UDS_DUCKDB_MEMORY_LIMIT`; the peak RSS follows it). With `lock_dir`
    (`Settings.locks_dir`) a second merge at the same time waits for the first (`locks.step_lock`):
    both would write parts of the same tables."""
    if lock_dir is not None:
        with locks.step_lock(lock_dir, STEP):
            return build_stripe_staging(lake_dir, con, external_id_fields, rebuild, memory_limit)
    own = con is None
    con = con or lake.duckdb_connection(memory_limit)
    try:
        if rebuild:
            watermarks.forget(lake_dir, STEP, STATE_TABLES)
        lake_views.register(con, lake_dir, [SOURCE, *STATE_TABLES])
        batches = watermarks.pending(con, lake_dir, STEP, SOURCE)
        written = all(catalog.path(lake_dir, t).exists() for t in STATE_TABLES)
        if batches.files or not written:
            _merge(con, lake_dir, batches, external_id_fields)
            watermarks.commit(con, lake_dir, STEP, [batches])
        counts = {t: lake_views.row_count(lake_dir, t) for t in STATE_TABLES}
        return counts | {watermarks.TABLE: len(watermarks.merged(con, lake_dir, STEP, SOURCE))}
    finally:
        for view in _VIEWS:
            con.execute(f"DROP VIEW IF EXISTS {view}")
        for temp in _TEMP:
            con.execute(f"DROP TABLE IF EXISTS {temp}")
        con.execute("DROP MACRO IF EXISTS uds_external_id_keys")
        if own:
            con.close()


def _merge(
    con: duckdb.DuckDBPyConnection,
    lake_dir: Path,
    batches: watermarks.PendingBatches,
    external_id_fields: Sequence[str],
) -> None:
    keys = sorted(field_keys(tuple(external_id_fields)))
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO uds_external_id_keys() AS [{lake.sql_literal_list(keys)}]::VARCHAR[]"
    )
    # Views, read once or twice: only the winners (`_stripe_won`) are held, never every new payload.
    con.execute(f"CREATE OR REPLACE TEMP VIEW _stripe_new AS SELECT * FROM {batches.relation(con)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW _stripe_candidates AS {stripe_sql.CANDIDATES}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _stripe_won_keys AS {stripe_sql.WON_KEYS}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _stripe_won AS {stripe_sql.WON}")
    con.execute("DROP TABLE _stripe_won_keys")  # the keys are in `_stripe_won` now: free them
    con.execute(f"CREATE OR REPLACE TEMP TABLE _stripe_versions_next AS {stripe_sql.VERSIONS}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _stripe_fresh AS {stripe_sql.NEW_EVENTS}")
    _append_events(con, lake_dir)
    for table, changed_sql in STRIPE_STAGING_TABLES.items():
        con.execute(f"CREATE OR REPLACE TEMP TABLE _stripe_fresh AS {changed_sql}")
        touched = f"SELECT {', '.join(catalog.table(table).key)} FROM _stripe_fresh"
        if table == "stripe_consents":  # every statement of a changed session is replaced
            touched = (
                "SELECT object_id AS source_record FROM _stripe_won WHERE object_type = 'checkout.session'"
            )
        keyed_parts.replace_rows(con, lake_dir, table, touched, "SELECT * FROM _stripe_fresh")
    won = "SELECT object_type, object_id, slot, event_id, event_created FROM _stripe_won"
    keyed_parts.replace_rows(con, lake_dir, "stripe_versions", won, won)


def _append_events(con: duckdb.DuckDBPyConnection, lake_dir: Path) -> None:
    """The events not staged yet (`_stripe_fresh`) as a new batch of `stripe_events`. A replay after a
    crash finds them staged (NEW_EVENTS anti-joins the table) and appends nothing twice."""
    if keyed_parts.has_rows(con, "FROM _stripe_fresh"):
        name = f"merged_{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}_{uuid.uuid4().hex[:8]}.parquet"
        lake_views.write_query(con, lake_dir, "stripe_events", "SELECT * FROM _stripe_fresh", batch_name=name)
    else:
        storage.make_private_dirs(catalog.path(lake_dir, "stripe_events"))
