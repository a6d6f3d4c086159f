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
from uds_pipelines.lib.identity.event_sources import event_link_identifiers_sql, is_link_row
from uds_pipelines.lib.identity.rejections import rejected_identifiers_sql
from uds_pipelines.lib.identity.sources import (
    SOURCE_TABLES,
    candidate_records_sql,
    finish_records_sql,
    identifiers_sql,
)
from uds_pipelines.lib.normalize.phone_table import create_phone_table

STEP = "identity_inputs"
LANDED = ("landed_forms", "landed_survey_responses")
OUTPUTS = ("person_records", "identifiers", "rejected_identifiers")
_TEMP = ("_pr_candidates", "_pr_fresh", "_pr_phones", "_pr_changed", "_pr_replaced", "_pr_links")

# Candidates that change the stored record: new, a Stripe customer whose raw columns changed, or a
# newer version of a form or survey record (same order as within a batch: `observed_at`, then hash).
_CHANGED = """
    SELECT c.* FROM _pr_candidates c LEFT JOIN person_records p USING (source, record_id)
    WHERE p.record_id IS NULL
       OR (c.source_hash IS DISTINCT FROM p.source_hash AND (
              c.source IN ('stripe', 'events')
           OR coalesce(c.observed_at, TIMESTAMPTZ '-infinity') > coalesce(p.observed_at, TIMESTAMPTZ '-infinity')
           OR (c.observed_at IS NOT DISTINCT FROM p.observed_at AND c.source_hash > coalesce(p.source_hash, ''))))
"""
# Stripe records whose customer is no longer staged (after a Stripe rebuild), and userIds no
# landed event carries any more (erased; or expired, see docs/events.md): dropped.
_GONE = """
    SELECT source, record_id FROM person_records p
    WHERE source IN ('stripe', 'events') AND NOT EXISTS (
        SELECT 1 FROM _pr_candidates c WHERE c.source = p.source AND c.record_id = p.record_id)
"""


def build_identity_inputs(
    con: duckdb.DuckDBPyConnection,
    lake_dir: Path,
    default_region: str,
    rebuild: bool = False,
    max_users_per_anonymous_id: int = 1,
) -> dict[str, int]:
    """Merge new and changed source records into `person_records`, their normalized `identifiers`
    and the emails and phones the normalizers refused (`rejected_identifiers`, with the reason);
    returns the row count per table, `records_changed` (records normalized or dropped this run),
    `anonymous_ids_linked` and `shared_anonymous_ids` (seen with more than
    `max_users_per_anonymous_id` users: a shared device, linking nobody).

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
        con.execute(f"CREATE OR REPLACE TEMP TABLE _pr_fresh AS {_CHANGED}")
        # every phone of the batch normalized once (on every core when many): records, identifiers
        # and rejections then join the one table
        region = default_region.replace("'", "")
        create_phone_table(
            con,
            f"SELECT phone, coalesce(uds_country(country), '{region}') AS region FROM _pr_fresh",
            "_pr_phones",
            default_region,
        )
        changed_records = finish_records_sql("_pr_fresh", default_region, phones="_pr_phones")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _pr_changed AS {changed_records}")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _pr_replaced AS "
            f"SELECT source, record_id FROM _pr_changed UNION ALL {_GONE}"
        )
        changed = con.execute("SELECT count(*) FROM _pr_replaced").fetchone()[0]
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _pr_links AS "
            + event_link_identifiers_sql(max_users_per_anonymous_id, events="events")
        )
        links_changed = _links_changed(con)
        if changed or links_changed or not all(catalog.path(lake_dir, t).exists() for t in OUTPUTS):
            _replace_rows(
                con,
                lake_dir,
                "identifiers",
                identifiers_sql(default_region, records_table="_pr_changed", phones="_pr_phones"),
                keep=f"NOT {is_link_row()}",
                extra=_LINK_ROWS,
            )
            _replace_rows(
                con,
                lake_dir,
                "rejected_identifiers",
                rejected_identifiers_sql(default_region, records_table="_pr_changed", phones="_pr_phones"),
            )
            # the records last: a replay after a crash still finds these records changed
            _replace_rows(con, lake_dir, "person_records", "SELECT * FROM _pr_changed")
        if any(b.files for b in batches):
            watermarks.commit(con, lake_dir, STEP, batches)
        anon_linked, shared = con.execute(
            "SELECT count(DISTINCT record_id) FILTER (WHERE shared_users IS NULL AND starts_with(record_id, 'anon:')), "
            "count(DISTINCT record_id) FILTER (WHERE shared_users IS NOT NULL) FROM _pr_links"
        ).fetchone()
        return {t: lake_views.row_count(lake_dir, t) for t in OUTPUTS} | {
            "records_changed": changed,
            "anonymous_ids_linked": anon_linked,
            "shared_anonymous_ids": shared,
        }
    finally:
        for temp in _TEMP:
            con.execute(f"DROP TABLE IF EXISTS {temp}")


# The anonymous-id and alias links of this run, shared devices left out (`event_sources`).
_LINK_ROWS = "SELECT * EXCLUDE (shared_users) FROM _pr_links WHERE shared_users IS NULL"


def _links_changed(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this run's anonymous-id links differ from the stored ones (rewrite only then)."""
    stored = (
        f"SELECT source, record_id, id_type, id_value, observed_at FROM identifiers WHERE {is_link_row()}"
    )
    return bool(
        con.execute(
            f"SELECT EXISTS ({_LINK_ROWS} EXCEPT {stored}) OR EXISTS ({stored} EXCEPT {_LINK_ROWS})"
        ).fetchone()[0]
    )


def _replace_rows(
    con: duckdb.DuckDBPyConnection,
    lake_dir: Path,
    table: str,
    fresh_sql: str,
    keep: str = "true",
    extra: str | None = None,
) -> None:
    """Table `table` without the rows of the changed and dropped records (and those not matching
    `keep`), plus `fresh_sql`'s (and `extra`'s)."""
    more = f" UNION ALL {extra}" if extra else ""
    lake_views.write_query(
        con,
        lake_dir,
        table,
        f"SELECT * FROM {table} ANTI JOIN _pr_replaced USING (source, record_id) WHERE {keep} "
        f"UNION ALL SELECT * FROM ({fresh_sql}){more}",
    )
