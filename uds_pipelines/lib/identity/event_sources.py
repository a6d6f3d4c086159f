"""Behavioural events as identity records: who a userId is, and which anonymous ids are theirs.

Every userId seen in the landed `events` becomes a person record `('events', 'user:<userId>')`:
its email, phone, names and country are the newest non-blank values its `identify` calls sent in
`traits` (Segment merges traits across calls the same way), and the userId itself is its
`external_id` (an app's own user id links to the same id in Stripe metadata, forms and surveys)
and its `event_user` identifier. An anonymousId that appeared with a userId (a track, page,
screen or identify call carrying both, or an `alias` from it to the userId) becomes the record
`('events', 'anon:<anonymousId>')` holding that user's `event_user` value, so it joins the user's
person and its earlier events follow (`catalog.VIEWS["person_events"]`). An anonymousId seen with
more than `max_users_per_anonymous_id` users is a shared device: it gets no record and links
nobody. An anonymousId never tied to a user gets no record either (no person, no profile).

An `alias` whose previousId is itself a userId merges the two users: the record
`('events', 'alias:<previousId>')` holds both `event_user` values.

The user records are read from the whole landed table on every run (`event_user_records_sql`) and
only the changed ones are normalized again (`person_records.source_hash`); the anonymous links are
rebuilt whole (`event_link_identifiers_sql`, one row per distinct pair: far fewer than events).
"""

from __future__ import annotations

SOURCE = "events"
PRIORITY = 4  # after Stripe, forms and surveys: traits an app sends about its users


def _trait(*names: str) -> str:
    """The first non-blank of the identify `traits` fields `names` (JSON paths), as VARCHAR."""
    paths = ", ".join(f"nullif(trim(json_extract_string(traits, '{n}')), '')" for n in names)
    return f"coalesce({paths})"


# The identify traits a person record takes, as Segment's spec names them (camelCase and snake_case).
_TRAITS = {
    "email": _trait("$.email"),
    "phone": _trait("$.phone"),
    "full_name": _trait("$.name"),
    "first_name": _trait("$.firstName", "$.first_name"),
    "last_name": _trait("$.lastName", "$.last_name"),
    "country": _trait("$.address.country", "$.country"),
    "address_line1": _trait("$.address.street"),
    "city": _trait("$.address.city"),
    "postcode": _trait("$.address.postalCode", "$.address.postal_code"),
}


def event_user_records_sql(events: str = "events") -> str:
    """Candidate person records of every userId in `events`, in the columns (and order) of the rows
    `sources.candidate_records_sql` unions: traits from its identify calls, newest value per field."""
    picks = ",\n".join(
        # ties in time go to the greater messageId: a rerun picks the same value (and source_hash)
        f"arg_max({expr}, struct_pack(t := timestamp, m := message_id)) "
        f"FILTER (WHERE type = 'identify' AND {expr} IS NOT NULL) AS {col}"
        for col, expr in _TRAITS.items()
    )
    return f"""
        SELECT source, record_id, {PRIORITY} AS priority, observed_at, email, phone, full_name,
               first_name, last_name, country, NULL::VARCHAR AS date_of_birth, address_line1, city,
               postcode, false AS deleted, created_at, external_id, NULL::BIGINT AS nps,
               NULL::VARCHAR AS utm_source
        FROM (
            SELECT '{SOURCE}' AS source, 'user:' || user_id AS record_id,
                   -- the record's state is its newest identify; a user never identified: first seen
                   coalesce(max(timestamp) FILTER (WHERE type = 'identify'), min(timestamp)) AS observed_at,
                   {picks},
                   min(timestamp) AS created_at, user_id AS external_id
            FROM {events} WHERE nullif(trim(user_id), '') IS NOT NULL
            GROUP BY user_id
        )
    """


def event_link_identifiers_sql(max_users_per_anonymous_id: int, events: str = "events") -> str:
    """`identifiers` rows (source, record_id, id_type, id_value, observed_at) tying anonymous ids to
    users: per anonymous id with at most `max_users_per_anonymous_id` users its own `record` row and
    one `event_user` row per user, and per alias from one userId to another an `alias:` record
    holding both; `observed_at` is when the tie was first seen (stable, so an unchanged set of
    links is not rewritten). Column `shared_users`: NULL, or the number of users of a shared
    device: such rows are counted, never written."""
    limit = int(max_users_per_anonymous_id)
    return f"""
        WITH users AS (SELECT DISTINCT user_id FROM {events} WHERE nullif(trim(user_id), '') IS NOT NULL),
        pairs AS (
            SELECT anonymous_id AS anon, user_id, min(timestamp) AS seen_at FROM {events}
            WHERE nullif(trim(anonymous_id), '') IS NOT NULL AND nullif(trim(user_id), '') IS NOT NULL
            GROUP BY 1, 2
            UNION ALL  -- an alias from an anonymous id (its previousId is no userId)
            SELECT previous_id, user_id, min(timestamp) FROM {events}
            WHERE type = 'alias' AND nullif(trim(user_id), '') IS NOT NULL
              AND nullif(trim(previous_id), '') IS NOT NULL
              AND previous_id NOT IN (SELECT user_id FROM users)
            GROUP BY 1, 2
        ),
        per_anon AS (
            SELECT anon, user_id, min(seen_at) AS seen_at,
                   count(*) OVER (PARTITION BY anon) AS n_users
            FROM pairs GROUP BY 1, 2
        ),
        user_aliases AS (
            SELECT previous_id, user_id, min(timestamp) AS seen_at FROM {events}
            WHERE type = 'alias' AND previous_id IN (SELECT user_id FROM users)
              AND nullif(trim(user_id), '') IS NOT NULL AND previous_id <> user_id
            GROUP BY 1, 2
        )
        SELECT '{SOURCE}' AS source, 'anon:' || anon AS record_id, 'event_user' AS id_type,
               user_id AS id_value, seen_at AS observed_at,
               CASE WHEN n_users > {limit} THEN n_users END AS shared_users
        FROM per_anon
        UNION ALL
        SELECT '{SOURCE}', 'anon:' || anon, 'record', '{SOURCE}:anon:' || anon, min(seen_at),
               CASE WHEN any_value(n_users) > {limit} THEN any_value(n_users) END
        FROM per_anon GROUP BY anon
        UNION ALL
        SELECT '{SOURCE}', 'alias:' || previous_id, 'event_user', v.id_value, min(seen_at), NULL
        FROM user_aliases, LATERAL (SELECT unnest([previous_id, user_id]) AS id_value) v
        GROUP BY previous_id, v.id_value
        UNION ALL
        SELECT DISTINCT '{SOURCE}', 'alias:' || previous_id, 'record', '{SOURCE}:alias:' || previous_id,
               min(seen_at) OVER (PARTITION BY previous_id), NULL
        FROM user_aliases
    """


def is_link_row(source: str = "source", record_id: str = "record_id") -> str:
    """True for an identifiers row this module rebuilds whole on every run (anonymous and alias records)."""
    return f"({source} = '{SOURCE}' AND NOT starts_with({record_id}, 'user:'))"
