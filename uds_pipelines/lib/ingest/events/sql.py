"""DuckDB SQL that reads Segment/RudderStack message files (JSONL) and types the common fields.

Lines are read as text (read_csv with a delimiter no valid JSON line holds, as Stripe landing does)
rather than with read_json: read_json with explicit columns either fails the whole file on one bad
line or, with ignore_errors, drops it silently, and every bad message must become a quarantine row
with its line number and reason. The JSON functions parse a line once per call, for all the paths
given to that call: one json_extract_string call reads every field (the JSON parts come back as
JSON text), and is the validity check too (`try`: NULL when the line is not JSON). JSON types are
only looked up for the rare values whose text shows they are not plain strings."""

from __future__ import annotations

from uds_pipelines.lib.ingest.stripe_landing.envelope import jsonl_source

MESSAGE_TYPES = ("track", "identify", "page", "screen", "group", "alias")
MAX_MESSAGE_BYTES = 32 * 1024  # Segment's per-message limit
# A timestamp outside this range is a client bug (epoch 0, year 20204), not an event: it would
# otherwise open a day folder of its own.
EARLIEST, LATEST = "2000-01-01", "2100-01-01"

_STRINGS = {  # e[i]: json_extract_string paths, one parse for all
    "type": "$.type",
    "message_id": "$.messageId",
    "event": "$.event",
    "name": "$.name",
    "user_id": "$.userId",
    "anonymous_id": "$.anonymousId",
    "group_id": "$.groupId",
    "previous_id": "$.previousId",
    "ts_raw": "$.timestamp",
    "original_raw": "$.originalTimestamp",
    "received_raw": "$.receivedAt",
    "sent_raw": "$.sentAt",
    "source": "$.source",
    # why uds-collect refused a call of a batch it otherwise accepted (lib/collect/messages.py)
    "refused": "$.uds_refused",
    "utm_source": "$.context.campaign.source",
    "utm_medium": "$.context.campaign.medium",
    "utm_campaign": "$.context.campaign.name",
    "utm_term": "$.context.campaign.term",
    "utm_content": "$.context.campaign.content",
    "ctx_url": "$.context.page.url",
    "ctx_path": "$.context.page.path",
    "ctx_referrer": "$.context.page.referrer",
    "prop_url": "$.properties.url",
    "prop_path": "$.properties.path",
    "prop_referrer": "$.properties.referrer",
    "properties": "$.properties",
    "traits": "$.traits",
    "context": "$.context",
}
_IDS = {"message_id": "$.messageId", "user_id": "$.userId", "anonymous_id": "$.anonymousId", "event": "$.event"}
_OBJECTS = ("properties", "traits", "context")


def _e(name: str) -> str:
    return f"nullif(e[{list(_STRINGS).index(name) + 1}], '')"


def _not_text(column: str) -> str:
    """A value json_extract_string returned as JSON text (an object or array where an id belongs);
    only such values are typed precisely, by a second parse of their line. A CASE, not an AND: DuckDB
    evaluates both sides of an AND in a select list, the THEN of a CASE only for the rows it selects."""
    path = _IDS[column]
    return (
        f"(CASE WHEN starts_with({column}, '{{') OR starts_with({column}, '[') "
        f"THEN try(json_type(line, '{path}')) IS DISTINCT FROM 'VARCHAR' ELSE false END)"
    )


def _not_object(column: str) -> str:
    return f"NOT starts_with({column}, '{{')"


REASON = f"""
    CASE
        WHEN len > {MAX_MESSAGE_BYTES} THEN 'too_large'
        WHEN root IS NULL OR (root = 'OBJECT' AND e IS NULL) THEN 'invalid_json'
        WHEN root <> 'OBJECT' THEN 'not_object:' || root
        WHEN refused IS NOT NULL THEN 'refused'
        WHEN type_raw IS NULL THEN 'no_type'
        WHEN type NOT IN {MESSAGE_TYPES} THEN 'unknown_type'
        WHEN message_id IS NULL OR {_not_text("message_id")} THEN 'no_message_id'
        WHEN coalesce(ts_raw, original_raw) IS NULL THEN 'no_timestamp'
        WHEN timestamp IS NULL OR timestamp NOT BETWEEN TIMESTAMPTZ '{EARLIEST}' AND TIMESTAMPTZ '{LATEST}'
            THEN 'bad_timestamp'
        WHEN type = 'track' AND (event IS NULL OR {_not_text("event")}) THEN 'no_event'
        WHEN {_not_text("user_id")} OR {_not_text("anonymous_id")} THEN 'bad_id'
        WHEN user_id IS NULL AND anonymous_id IS NULL THEN 'no_identity'
        WHEN {_not_object("properties")} OR {_not_object("traits")} OR {_not_object("context")} THEN 'not_object_field'
    END
"""

# Every column of `events` but the plan's `violations`, plus what landing needs: the reason code,
# the bad line (for quarantine only) and the input line's index in the batch (rowid, since the
# table is built in scan order).
_FIELDS = f"""
    filename, len, root, e,
    {_e("type")} AS type_raw, lower(type_raw) AS type,
    {_e("message_id")} AS message_id, {_e("event")} AS event, {_e("name")} AS name,
    {_e("user_id")} AS user_id, {_e("anonymous_id")} AS anonymous_id,
    {_e("group_id")} AS group_id, {_e("previous_id")} AS previous_id,
    {_e("ts_raw")} AS ts_raw, {_e("original_raw")} AS original_raw,
    -- Segment's `timestamp` is already skew-corrected; a file written by a client library may
    -- only carry `originalTimestamp`
    TRY_CAST(coalesce(ts_raw, original_raw) AS TIMESTAMPTZ) AS timestamp,
    TRY_CAST({_e("received_raw")} AS TIMESTAMPTZ) AS received_at,
    TRY_CAST({_e("sent_raw")} AS TIMESTAMPTZ) AS sent_at,
    TRY_CAST(original_raw AS TIMESTAMPTZ) AS original_timestamp,
    {_e("properties")} AS properties, {_e("traits")} AS traits, {_e("context")} AS context,
    {_e("utm_source")} AS utm_source, {_e("utm_medium")} AS utm_medium,
    {_e("utm_campaign")} AS utm_campaign, {_e("utm_term")} AS utm_term, {_e("utm_content")} AS utm_content,
    coalesce({_e("ctx_url")}, CASE WHEN type = 'page' THEN {_e("prop_url")} END) AS page_url,
    coalesce({_e("ctx_path")}, CASE WHEN type = 'page' THEN {_e("prop_path")} END) AS page_path,
    coalesce({_e("ctx_referrer")}, CASE WHEN type = 'page' THEN {_e("prop_referrer")} END) AS page_referrer,
    {_e("source")} AS source, {_e("refused")} AS refused
"""


def create_rows(paths: list) -> str:
    """ev_rows: one row per physical line of `paths`, in scan order (needs preserve_insertion_order);
    blank lines are rows too (so rowid counts lines) and are dropped from counts later."""
    strings = "[" + ", ".join(f"'{p}'" for p in _STRINGS.values()) + "]"
    return f"""
        CREATE OR REPLACE TEMP TABLE ev_rows AS
        SELECT filename, type, message_id, event, name, user_id, anonymous_id, group_id, previous_id,
               timestamp, received_at, sent_at, original_timestamp, properties, traits, context,
               utm_source, utm_medium, utm_campaign, utm_term, utm_content, page_url, page_path,
               page_referrer, source, blank, reason, len,
               CASE reason WHEN 'refused' THEN refused WHEN 'unknown_type' THEN type_raw WHEN 'bad_timestamp' THEN coalesce(ts_raw, original_raw)
                    WHEN 'not_object_field' THEN CASE WHEN {_not_object("properties")} THEN 'properties'
                        WHEN {_not_object("traits")} THEN 'traits' ELSE 'context' END
               END AS reason_detail,
               CASE WHEN reason IS NOT NULL THEN line END AS bad_line
        FROM (
            SELECT *, CASE WHEN NOT blank THEN {REASON} END AS reason
            FROM (
                SELECT line, {_FIELDS},
                       (line IS NULL OR CASE WHEN len < 64 THEN trim(line, ' \t\r\n') = '' ELSE false END) AS blank
                FROM (
                    SELECT filename, line, strlen(line) AS len,
                        -- a message is an object: only other lines need their JSON type
                        CASE WHEN starts_with(line, '{{') THEN 'OBJECT' ELSE try(json_type(line)) END AS root,
                        CASE WHEN root = 'OBJECT' AND len <= {MAX_MESSAGE_BYTES}
                             THEN try(json_extract_string(line, {strings})) END AS e
                    FROM {jsonl_source(paths)}
                )
            )
        )
    """
