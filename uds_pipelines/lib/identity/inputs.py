"""The inputs of identity resolution as durable state: person records and their normalized identifiers.

A run merges the form and survey batches landed since the step's watermark (`lib.watermarks`) and
every Stripe customer (staged state, cheap to read whole); only the records that are new or whose
raw columns changed (`source_hash`) are split, normalized and rewritten, so e-mail, phone and
name normalization runs once per record, not over all history on every run. Records stay when
retention deletes their landed rows; erasure removes them. Merging is idempotent: a crash before
the watermark is written replays the same batches to the same tables.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, lake_views, watermarks
from uds_pipelines.lib.identity.rejections import rejected_identifiers_sql
from uds_pipelines.lib.identity.sources import (
    SOURCE_TABLES,
    candidate_records_sql,
    finish_records_sql,
    identifiers_sql,
)

STEP = "identity_inputs"
LANDED = ("landed_forms", "landed_survey_responses")
OUTPUTS = ("person_records", "identifiers", "rejected_identifiers")
_TEMP = ("_pr_candidates", "_pr_changed", "_pr_replaced")

# Candidates that change the stored record: new, a Stripe customer whose raw columns changed, or a
# newer version of a form or survey record (same order as within a batch: `observed_at`, then hash).
_CHANGED = """
    SELECT c.* FROM _pr_candidates c LEFT JOIN person_records p USING (source, record_id)
    WHERE p.record_id IS NULL
       OR (c.source_hash IS DISTINCT FROM p.source_hash AND (
              c.source = 'stripe'
           OR coalesce(c.observed_at, TIMESTAMPTZ '-infinity') > coalesce(p.observed_at, TIMESTAMPTZ '-infinity')
           OR (c.observed_at IS NOT DISTINCT FROM p.observed_at AND c.source_hash > coalesce(p.source_hash, ''))))
"""
# Stripe records whose customer is no longer staged (after a Stripe rebuild): dropped.
_GONE = """
    SELECT source, record_id FROM person_records p
    WHERE source = 'stripe' AND NOT EXISTS (
        SELECT 1 FROM _pr_candidates c WHERE c.source = 'stripe' AND c.record_id = p.record_id)
"""


def build_identity_inputs(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, default_region: str, rebuild: bool = False
) -> dict[str, int]:
    """Merge new and changed source records into `person_records`, their normalized `identifiers`
    and the emails and phones the normalizers refused (`rejected_identifiers`, with the reason);
    returns the row count per table and `records_changed` (records normalized or dropped this run).

    `con` has the `uds_*` functions (`lib.connection.connect`); the views it reads are refreshed
    here. `rebuild` forgets the state and merges every landed batch again.
    """
    if rebuild:
        watermarks.forget(lake_dir, STEP, OUTPUTS)
    lake_views.register(con, lake_dir, [*SOURCE_TABLES, *OUTPUTS])
    batches = [watermarks.pending(con, lake_dir, STEP, table) for table in LANDED]
    forms, surveys = (b.relation(con) for b in batches)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _pr_candidates AS {candidate_records_sql(forms, surveys)}")
        changed_records = finish_records_sql(f"({_CHANGED})")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _pr_changed AS {changed_records}")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _pr_replaced AS "
            f"SELECT source, record_id FROM _pr_changed UNION ALL {_GONE}"
        )
        changed = con.execute("SELECT count(*) FROM _pr_replaced").fetchone()[0]
        if changed or not all(catalog.path(lake_dir, t).exists() for t in OUTPUTS):
            _replace_rows(
                con, lake_dir, "identifiers", identifiers_sql(default_region, records_table="_pr_changed")
            )
            _replace_rows(
                con,
                lake_dir,
                "rejected_identifiers",
                rejected_identifiers_sql(default_region, records_table="_pr_changed"),
            )
            # the records last: a replay after a crash still finds these records changed
            _replace_rows(con, lake_dir, "person_records", "SELECT * FROM _pr_changed")
        if any(b.files for b in batches):
            watermarks.commit(con, lake_dir, STEP, batches)
        return {t: lake_views.row_count(lake_dir, t) for t in OUTPUTS} | {"records_changed": changed}
    finally:
        for temp in _TEMP:
            con.execute(f"DROP TABLE IF EXISTS {temp}")


def _replace_rows(con: duckdb.DuckDBPyConnection, lake_dir: Path, table: str, fresh_sql: str) -> None:
    """Table `table` without the rows of the changed and dropped records, plus `fresh_sql`'s."""
    lake_views.write_query(
        con,
        lake_dir,
        table,
        f"SELECT * FROM {table} ANTI JOIN _pr_replaced USING (source, record_id) UNION ALL SELECT * FROM ({fresh_sql})",
    )
