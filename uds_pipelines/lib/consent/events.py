"""Consent statements from behavioural events: what a consent manager put in each event's context.

Two shapes are read, both as the SDKs send them:
- Segment's consent object, `context.consent.categoryPreferences`: `{"Advertising": true, ...}`;
- RudderStack's, `context.consentManagement`: `allowedConsentIds` / `deniedConsentIds`, lists of
  category ids (OneTrust's `C0004`, Ketch's and iubenda's purpose names).

The tracking plan's `consent_categories` maps a category (case-insensitive) to our purposes; a
category it does not map says nothing. Only changes become statements: an event whose preference
for a purpose is the same as the previous event's of the same identity says nothing new (every
page view re-sends the cookie's preferences), so the ledger gets one statement per identity,
purpose and change, at the event's `timestamp`, the first one included. Several categories mapped
to one purpose in one event decide it together: any no is a no.

Statements of event days retention deleted are kept in `event_consent_history` (`history`), and
an identity's first remaining event is a change only against the latest of those.

A statement names the event's identity as its source record (`events`, `user:<userId>`, else
`anon:<anonymousId>`), the record the identity map gives a person (`stage.RECORD_SOURCES`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from uds_pipelines.lib import lake

SOURCE = "events"
_GRANTED = """CASE WHEN v IN ('true', '"true"') THEN true WHEN v IN ('false', '"false"') THEN false END"""


def _mapping_values(category_map: Mapping[str, Sequence[str]]) -> str:
    pairs = sorted(
        {(str(c).strip().lower(), str(p).strip().lower()) for c, ps in category_map.items() for p in ps}
    )
    return ", ".join(f"({lake.sql_literal_list([c])}, {lake.sql_literal_list([p])})" for c, p in pairs)


def event_statements_sql(
    category_map: Mapping[str, Sequence[str]],
    events: str = "events",
    prior: str = "event_consent_history",
    with_message_id: bool = False,
) -> str | None:
    """A parenthesized query with the statement columns of `landed_consent` over the view `events`
    (and the event's `message_id` last, `with_message_id`); None when nothing is mapped (no statement
    can come from events).

    `prior` holds statements of earlier events with their `message_id` (`history`: those retention
    deleted): an identity's first event here is a change only if it differs from its latest prior
    statement, the latest as events are ordered (time, then message id)."""
    values = _mapping_values(category_map)
    if not values:
        return None
    return f"""(
        WITH mapping(category, purpose) AS (VALUES {values}),
        said AS (
            SELECT
                CASE WHEN user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END AS identifier_type,
                coalesce(user_id, anonymous_id) AS identifier,
                CASE WHEN user_id IS NOT NULL THEN 'user:' || user_id ELSE 'anon:' || anonymous_id END
                    AS source_record,
                timestamp AS captured_at, source_file, message_id,
                json_extract(context, '$.consent.categoryPreferences') AS prefs,
                json_extract(context, '$.consentManagement') AS managed
            FROM {events}
            -- most events carry no consent object: skip them before any JSON is parsed
            WHERE context LIKE '%onsent%' AND coalesce(user_id, anonymous_id) IS NOT NULL
        ),
        categories AS (
            SELECT * EXCLUDE (prefs, managed, e), e.key AS category, e.value AS v FROM (
                SELECT *, unnest(map_entries(TRY_CAST(prefs AS MAP(VARCHAR, JSON)))) AS e FROM said
                WHERE json_type(prefs) = 'OBJECT'
            )
            UNION ALL
            SELECT * EXCLUDE (prefs, managed), unnest(TRY_CAST(json_extract(managed, '$.allowedConsentIds')
                AS VARCHAR[])) AS category, 'true' AS v FROM said WHERE managed IS NOT NULL
            UNION ALL
            SELECT * EXCLUDE (prefs, managed), unnest(TRY_CAST(json_extract(managed, '$.deniedConsentIds')
                AS VARCHAR[])) AS category, 'false' AS v FROM said WHERE managed IS NOT NULL
        ),
        per_event AS (
            SELECT c.identifier_type, c.identifier, c.source_record, c.captured_at, c.source_file,
                   c.message_id, m.purpose,
                   -- any no decides no; a value that is not a boolean leaves the decision empty
                   CASE WHEN bool_or({_GRANTED} IS NULL) THEN NULL ELSE bool_and({_GRANTED}) END AS granted
            FROM categories c JOIN mapping m ON m.category = lower(trim(c.category))
            GROUP BY ALL
        ),
        earlier AS (  -- a window, not arg_max: a statement without a decision (NULL) counts too
            SELECT p.identifier_type, p.identifier, p.purpose, p.granted, p.captured_at, p.message_id
            FROM {prior} AS p JOIN (
                SELECT identifier_type, identifier, purpose, min(captured_at) AS first_at FROM per_event GROUP BY ALL
            ) f ON f.identifier_type = p.identifier_type AND f.identifier = p.identifier AND f.purpose = p.purpose
            WHERE p.source = '{SOURCE}' AND p.captured_at < f.first_at
            QUALIFY row_number() OVER (
                PARTITION BY p.identifier_type, p.identifier, p.purpose ORDER BY p.captured_at DESC, p.message_id DESC
            ) = 1
        ),
        sequence AS (
            SELECT *, false AS is_prior FROM per_event
            UNION ALL BY NAME
            SELECT *, true AS is_prior FROM earlier
        ),
        changes AS (
            SELECT *, lag(granted) OVER (
                PARTITION BY identifier_type, identifier, purpose ORDER BY captured_at, message_id
            ) AS before, row_number() OVER (
                PARTITION BY identifier_type, identifier, purpose ORDER BY captured_at, message_id
            ) AS n
            FROM sequence
        )
        SELECT identifier_type, identifier, purpose, granted, captured_at, '{SOURCE}' AS source,
               source_record, source_file{", message_id" if with_message_id else ""}
        FROM changes WHERE NOT is_prior AND (n = 1 OR granted IS DISTINCT FROM before)
    )"""
