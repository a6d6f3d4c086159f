"""Events of erased people that arrive again are dropped at landing: counted, never stored.

An erasure puts keyed hashes of the person's event ids on the suppression list (`event_user`,
`event_anonymous`, besides their emails and phones). A message is dropped when its `userId` is
suppressed (as an event user or as the app's external id, which is often the same id), when it has
no `userId` and its `anonymousId` is suppressed (another user's event on a device the person once
used is that user's), or when it is an identify whose `traits.email` / `traits.phone` is
suppressed. Only distinct values are hashed: a batch has far fewer ids than events.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from uds_pipelines.lib.normalize.duckdb_udfs import register_duckdb_udfs
from uds_pipelines.lib.privacy.suppression import (
    EVENT_ANONYMOUS,
    EVENT_USER,
    SUPPRESSION_TABLE,
    load_suppression,
    register_suppression,
)

SUPPRESSED = "suppressed"
_EMPTY = "CREATE OR REPLACE TEMP TABLE ev_supp AS SELECT NULL::BIGINT AS rid WHERE false"


def _hit(values_sql: str, key_sql: str, id_types: tuple[str, ...]) -> str:
    """The distinct values of `values_sql` (column `v`) whose normalized key is suppressed."""
    types = ", ".join(f"'{t}'" for t in id_types)
    return (
        f"SELECT v FROM (SELECT DISTINCT v FROM ({values_sql}) WHERE v IS NOT NULL) "
        f"WHERE uds_hmac({key_sql}) IN (SELECT id_hash FROM {SUPPRESSION_TABLE} WHERE id_type IN ({types}))"
    )


def create_suppressed(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, candidates: str, key: bytes | None, default_region: str
) -> None:
    """Create `ev_supp(rid)`: the rows of `candidates` (rid, type, user_id, anonymous_id, traits) to drop."""
    if key is None or load_suppression(lake_dir).empty:
        con.execute(_EMPTY)
        return
    register_suppression(con, key, lake_dir)
    register_duckdb_udfs(con, default_region)
    con.execute(f"CREATE OR REPLACE TEMP TABLE ev_cand AS {candidates}")
    # an event user is hashed as its record names it (`user:<userId>`, as sent); an external id trimmed
    users = (
        _hit("SELECT user_id AS v FROM ev_cand", "v", (EVENT_USER,))
        + " UNION "
        + _hit("SELECT user_id AS v FROM ev_cand", "trim(v)", ("external_id",))
    )
    anons = _hit("SELECT anonymous_id AS v FROM ev_cand WHERE user_id IS NULL", "v", (EVENT_ANONYMOUS,))
    traits = "SELECT json_extract_string(traits, '$.{0}') AS v FROM ev_cand WHERE type = 'identify'"
    emails = _hit(traits.format("email"), "uds_email_key(v)", ("email",))
    phones = _hit(traits.format("phone"), "uds_phone_e164(v, NULL)", ("phone",))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ev_supp AS
        SELECT rid FROM ev_cand
        WHERE user_id IN ({users})
           OR (user_id IS NULL AND anonymous_id IN ({anons}))
           OR (type = 'identify' AND (json_extract_string(traits, '$.email') IN ({emails})
                                      OR json_extract_string(traits, '$.phone') IN ({phones})))
        """
    )
    con.execute("DROP TABLE ev_cand")
