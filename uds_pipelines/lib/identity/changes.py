"""The identity change log (new / merge / split / revive) and the customer registry after a run."""

from __future__ import annotations

from datetime import datetime

import duckdb

from uds_pipelines.lib.identity import scratch


def build_changes(con: duckdb.DuckDBPyConnection, run_id: str, now: datetime) -> None:
    """Create `_idr_changes` from the claims made by `stable_ids.assign_ids`.

    - merge: `customer_id` survived and absorbed `other_customer_id` (`records` of its records); also
      logged when an id merged earlier now follows a different survivor (its records split away from
      the one it was merged into), but not when it only follows its survivor into another merge;
    - split: `records` of `customer_id`'s records now belong to `other_customer_id`;
    - revive: a merged id is active again, holding `records` records split off from
      `other_customer_id` (the id it had been merged into; that move is also a split row);
    - new: a person made only of records never seen before.
    A component of split-off records that gets a fresh id is logged as a split, not also as new.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.CHANGES} AS
        WITH sizes AS (SELECT comp, count(*) AS n FROM {scratch.COMP} GROUP BY comp),
        outcome AS (
            SELECT c.*, s.customer_id AS survivor FROM {scratch.CLAIMS} c JOIN {scratch.SURVIVORS} s USING (comp)
        )
        SELECT $run_id AS run_id, $now::TIMESTAMPTZ AS changed_at, 'merge' AS change,
               c.survivor AS customer_id, c.prev_id AS other_customer_id, c.n::BIGINT AS records
        FROM outcome c LEFT JOIN outcome t ON t.prev_id = c.prev_target
        WHERE c.prev_id <> c.survivor
          AND (c.was_live OR t.survivor IS DISTINCT FROM c.survivor)
        UNION ALL
        SELECT $run_id, $now::TIMESTAMPTZ, 'split', o.prev_id, ci.customer_id, o.n::BIGINT
        FROM {scratch.OVERLAP} o
        JOIN {scratch.CLAIMS} c ON c.prev_id = o.prev_id AND c.comp <> o.comp
        JOIN {scratch.COMP_IDS} ci ON ci.comp = o.comp
        UNION ALL
        SELECT $run_id, $now::TIMESTAMPTZ, 'revive', c.survivor, c.prev_target, sizes.n::BIGINT
        FROM outcome c JOIN sizes USING (comp)
        WHERE c.prev_id = c.survivor AND NOT c.was_live
        UNION ALL
        SELECT $run_id, $now::TIMESTAMPTZ, 'new', ci.customer_id, NULL, sizes.n::BIGINT
        FROM {scratch.COMP_IDS} ci JOIN sizes USING (comp)
        WHERE ci.is_new AND ci.comp NOT IN (SELECT comp FROM {scratch.OVERLAP})
        """,
        {"run_id": run_id, "now": now},
    )


def build_registry(
    con: duckdb.DuckDBPyConnection, prev_registry_table: str, now: datetime, kept: str | None = None
) -> None:
    """Create `_idr_registry`: every id ever issued with its status now, from the previous run's
    registry (`prev_registry_table`, a table or view with the catalog's columns) and this run's claims.

    `active` ids hold records (a merged id whose records split off again is active again, with
    `merged_into` cleared); `merged` ids point (`merged_into`) at the id that absorbed them, with
    older merge chains shortened by one step each run so they always end at a live id; `retired` ids
    lost all their records (erasure). `status_changed_at` moves only when status or target change.
    `kept`: the previous map's rows an incremental run left as they were (their customers stay active).
    """
    kept_rows = kept or "(SELECT NULL::VARCHAR AS customer_id, NULL::VARCHAR AS origin_customer_id WHERE false)"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.REGISTRY} AS
        WITH prev AS (
            SELECT customer_id, min(created_at) AS created_at, arg_min(status, created_at) AS status,
                   arg_min(merged_into, created_at) AS merged_into,
                   arg_min(status_changed_at, created_at) AS status_changed_at
            FROM {prev_registry_table} WHERE customer_id IS NOT NULL GROUP BY customer_id
        ),
        known AS (
            SELECT customer_id, created_at, status, merged_into, status_changed_at FROM prev
            UNION ALL
            SELECT DISTINCT customer_id, $now::TIMESTAMPTZ, 'active', NULL, $now::TIMESTAMPTZ
            FROM (
                SELECT customer_id FROM {scratch.PREV_IDS}
                UNION ALL
                SELECT unnest([customer_id, coalesce(origin_customer_id, customer_id)]) FROM {kept_rows}
            )
            WHERE customer_id NOT IN (SELECT customer_id FROM prev)
        ),
        merged_now AS (
            SELECT c.prev_id AS customer_id, s.customer_id AS into_id
            FROM {scratch.CLAIMS} c JOIN {scratch.SURVIVORS} s USING (comp) WHERE c.prev_id <> s.customer_id
        ),
        live AS (SELECT customer_id FROM {scratch.COMP_IDS} UNION ALL SELECT DISTINCT customer_id FROM {kept_rows}),
        updated AS (
            SELECT k.customer_id, k.created_at, k.status AS old_status, k.merged_into AS old_into,
                   k.status_changed_at AS old_changed,
                   CASE WHEN l.customer_id IS NOT NULL THEN 'active'
                        WHEN m.customer_id IS NOT NULL OR k.status = 'merged' THEN 'merged'
                        ELSE 'retired' END AS status,
                   CASE WHEN l.customer_id IS NOT NULL THEN NULL
                        WHEN m.customer_id IS NOT NULL THEN m.into_id
                        WHEN k.status = 'merged' THEN coalesce(chain.into_id, k.merged_into)
                        ELSE NULL END AS merged_into
            FROM known k
            LEFT JOIN live l ON l.customer_id = k.customer_id
            LEFT JOIN merged_now m ON m.customer_id = k.customer_id
            LEFT JOIN merged_now chain ON chain.customer_id = k.merged_into
        )
        SELECT customer_id, created_at, status, merged_into,
               CASE WHEN status = old_status AND merged_into IS NOT DISTINCT FROM old_into
                    THEN coalesce(old_changed, created_at) ELSE $now::TIMESTAMPTZ END AS status_changed_at
        FROM updated
        UNION ALL
        SELECT customer_id, $now::TIMESTAMPTZ, 'active', NULL, $now::TIMESTAMPTZ FROM {scratch.COMP_IDS} WHERE is_new
        """,
        {"now": now},
    )
