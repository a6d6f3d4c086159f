"""DuckDB SQL that merges newly landed Stripe events into the Stripe staging tables."""

from __future__ import annotations

from uds_pipelines.lib.staging.stripe_tables_sql import FIELDS_BY_TYPE

# The newly landed events are the temp table `_stripe_new` (`build_stripe_staging`); what they
# change is merged into the staged tables, which are the durable state (retention deletes landed
# events, never what staging took from them).

# Events not staged yet; the first landing of an event id wins (all copies carry the same event).
NEW_EVENTS = """
    SELECT * FROM (
        SELECT event_id, type, created, livemode, api_version, object_type, object_id, customer_ref,
               source_file, position, landed_at
        FROM _stripe_new ANTI JOIN stripe_events USING (event_id)
    )
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY landed_at, source_file, position) = 1
"""

# Stripe's order: event `created`, ties by event id; an event without `created` comes first.
_NEWEST_FIRST = "coalesce(created, TIMESTAMPTZ '-infinity') DESC, event_id DESC"
_OLDEST_FIRST = "coalesce(created, TIMESTAMPTZ 'infinity'), event_id"

# Per object and slot, the one new event that can decide its state: `latest` (the newest event of
# each object; refunds also from the refund lists charges embed), `live` (a customer's newest
# event that is not its deletion: a deleted customer keeps the attributes it had) and `deleted`
# (a customer's first deletion). Arrival order plays no part. The choice is made on narrow rows:
# only an embedded refund carries its object here; every other winner's object is read from its
# payload afterwards (WON), so neither the ordering nor the JSON extraction touches the payloads
# of the events that lose (an object's earlier events: an invoice or a subscription has several).
CANDIDATES = f"""
    WITH events AS (
        SELECT object_type, object_id, event_id, type, created, source_file, position, landed_at,
               NULL::JSON AS obj,
               -- a CASE: DuckDB evaluates both sides of an AND, and only customers need the parse
               CASE WHEN object_type = 'customer' THEN type = 'customer.deleted'
                   OR json_extract_string(payload, '$.data.object.deleted') = 'true' ELSE false END AS deletion
        FROM _stripe_new WHERE object_id IS NOT NULL
    ),
    embedded_refunds AS (
        SELECT 'refund' AS object_type, json_extract_string(r, '$.id') AS object_id, event_id, type, created,
               source_file, position, landed_at, r AS obj, false AS deletion
        FROM (
            SELECT unnest(json_extract(payload, '$.data.object.refunds.data[*]')) AS r, event_id, type,
                   created, source_file, position, landed_at
            FROM _stripe_new
            WHERE object_type = 'charge' AND json_type(payload, '$.data.object.refunds.data') = 'ARRAY'
        )
    ),
    newest AS (
        SELECT *, 'latest' AS slot FROM events
        UNION ALL
        SELECT *, 'latest' FROM embedded_refunds WHERE object_id IS NOT NULL
        UNION ALL
        SELECT *, 'live' FROM events WHERE object_type = 'customer' AND type <> 'customer.deleted'
    )
    SELECT object_type, object_id, slot, event_id, created AS event_created, source_file, position,
           landed_at, obj
    FROM newest
    QUALIFY row_number() OVER (PARTITION BY object_type, object_id, slot ORDER BY {_NEWEST_FIRST}) = 1
    UNION ALL
    SELECT object_type, object_id, 'deleted', event_id, created, source_file, position, landed_at, obj
    FROM events WHERE deletion
    QUALIFY row_number() OVER (PARTITION BY object_type, object_id ORDER BY {_OLDEST_FIRST}) = 1
"""

# The candidates that beat the staged version of their object and slot (a tie is the same event
# merged again: it wins, so a replay after a crash rewrites the same rows); WON adds the fields of
# their objects (an event's `data.object`), read from the landed row the candidate came from.
WON_KEYS = """
    SELECT c.* FROM _stripe_candidates c
    LEFT JOIN stripe_versions v USING (object_type, object_id, slot)
    WHERE v.event_id IS NULL
       OR (c.slot <> 'deleted' AND (
              coalesce(c.event_created, TIMESTAMPTZ '-infinity') > coalesce(v.event_created, TIMESTAMPTZ '-infinity')
           OR (c.event_created IS NOT DISTINCT FROM v.event_created AND c.event_id >= v.event_id)))
       OR (c.slot = 'deleted' AND (
              coalesce(c.event_created, TIMESTAMPTZ 'infinity') < coalesce(v.event_created, TIMESTAMPTZ 'infinity')
           OR (c.event_created IS NOT DISTINCT FROM v.event_created AND c.event_id <= v.event_id)))
"""
# The merged versions of the objects that won (`_stripe_versions_next`, for the customers' times):
# only theirs, not the whole table.
VERSIONS = """
    SELECT * FROM stripe_versions SEMI JOIN _stripe_won USING (object_type, object_id)
    ANTI JOIN _stripe_won USING (object_type, object_id, slot)
    UNION ALL
    SELECT object_type, object_id, slot, event_id, event_created FROM _stripe_won
"""


# The winners (`_stripe_won_keys`, a table: its exact size makes it the hash join's build side)
# with the fields of their objects (`stripe_tables_sql`: `j`, NULL for the object types no table reads and
# for deletions). The landed rows stream past it and only the winners' payloads are parsed; a join
# built on the payload side held every winner's JSON in the hash table and ran out of memory at
# 10M events under the default 1.5 GB limit. An embedded refund brings its object along.
def _fields_of(document: str, prefix: str) -> str:
    whens = " ".join(f"WHEN '{t}' THEN {f.extract(document, prefix)}" for t, f in FIELDS_BY_TYPE.items())
    return f"CASE WHEN w.slot = 'deleted' THEN NULL ELSE CASE w.object_type {whens} END END"


WON = f"""
    SELECT object_type, object_id, slot, event_id, event_created, source_file, {_fields_of("w.obj", "$")} AS j
    FROM _stripe_won_keys w WHERE obj IS NOT NULL
    UNION ALL
    SELECT w.object_type, w.object_id, w.slot, w.event_id, w.event_created, w.source_file,
           {_fields_of("n.payload", "$.data.object")} AS j
    FROM (SELECT * FROM _stripe_won_keys WHERE obj IS NULL) w
    LEFT JOIN _stripe_new n
      ON n.event_id = w.event_id AND n.source_file = w.source_file
     AND n.position = w.position AND n.landed_at = w.landed_at
"""
