"""Incremental resolution: find the records a run's changes can reach, so only they are resolved again.

Every identity map row keeps its record's fingerprint (a hash of the identifiers it was resolved
with and of the guardrail settings) and whether it held a value a guardrail refused. The next run
resolves again, with the whole algorithm, a part of the graph closed under everything that can
change an answer, and keeps every other row of the previous map as it was:

- the records whose fingerprint changed, new records, records gone, records that held a refused
  value (a value's holders can fall under its limit without any of them changing) and the records
  of customers above the warning size (their report must name their glue);
- every holder of a value those hold, unless the value is refused by rule or its other holders
  alone already exceed its limit (then it linked nobody before and links nobody now);
- every holder of a value any reached record holds that links (not refused, within its limit);
- every record of a reached record's previous customer (stable ids are decided per customer).

Closed this way, each component of the graph, before and after the type limits, lies wholly inside
the part or wholly outside it, and each previous customer too, so the part's answer is the whole
run's answer for its records (`uds_pipelines_tests/lib/identity/test_incremental.py` compares the two).
Keys are 64-bit hashes: a clash of record or value keys only reaches more records than needed, and
the counts that decide a verdict are taken over exact texts. A fingerprint is two sums of two other
hashes (`linking.IDENTIFIERS_HASH`): a changed record goes unseen only if both clash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import duckdb

from uds_pipelines.lib.identity.guardrails import GuardrailConfig, blocked_rule_sql, max_records_sql
from uds_pipelines.lib.identity.linking import IDENTIFIERS_HASH, RECORD_KEY, keyed_identifiers_sql

# Past this share of the records reached, resolving the whole graph is cheaper than finding the part.
MAX_SHARE = 0.5
_HOLDER = "source || chr(31) || record_id"
_IS_VALUE = "id_type IS NOT NULL AND id_value IS NOT NULL"


def settings_salt(config: GuardrailConfig, matching: str) -> str:
    """A hash of the settings an answer depends on: a fingerprint taken under other settings differs."""
    blob = json.dumps({"guardrails": config.to_dict(), "matching": matching}, sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def fingerprint_sql(identifiers_hash: str, salt: str) -> str:
    """The stored fingerprint (BIGINT) of a record whose identifiers hash to `identifiers_hash`."""
    return f"CAST(hash({identifiers_hash}, '{salt}') & 9223372036854775807 AS BIGINT)"


@dataclass(frozen=True)
class Part:
    """The part of the graph to resolve again, as temp tables on the connection."""

    identifiers: str  # the identifiers of its records
    previous_map: str  # the previous map's rows of its records, and of records gone
    kept: str  # the previous map's rows of every other record, left as they were
    value_counts: str  # (id_type, id_value, n_records): the holders of its values in the whole graph
    reached: int  # records in the part


def find_part(
    con: duckdb.DuckDBPyConnection,
    identifiers_table: str,
    previous_map: str,
    config: GuardrailConfig,
    salt: str,
) -> Part | None:
    """The part of the graph this run must resolve again; None when the whole graph must be (no
    fingerprints in the previous map, or most records reached)."""
    columns = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {previous_map}").fetchall()}
    if not {"fingerprint", "guarded", "origin_customer_id"} <= columns:
        return None
    # no previous run, or a map written before fingerprints existed: every record would be reached
    fingerprinted, mapped = con.execute(f"SELECT count(fingerprint), count(*) FROM {previous_map}").fetchone()
    if not mapped or fingerprinted < (1 - MAX_SHARE) * mapped:
        return None
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _inc_ids AS {keyed_identifiers_sql(identifiers_table)};
        CREATE OR REPLACE TEMP TABLE _inc_prev AS
        SELECT {RECORD_KEY} AS rk, customer_id, fingerprint, coalesce(guarded, false) AS guarded
        FROM {previous_map} WHERE customer_id IS NOT NULL;
        CREATE OR REPLACE TEMP TABLE _inc_reach AS
        WITH now AS (SELECT rk, {fingerprint_sql(IDENTIFIERS_HASH, salt)} AS fingerprint FROM _inc_ids GROUP BY rk),
        big AS (
            SELECT customer_id FROM _inc_prev GROUP BY customer_id
            HAVING count(*) > {int(config.warn_component_records)}
        )
        SELECT DISTINCT rk FROM (
            SELECT coalesce(n.rk, p.rk) AS rk FROM now n FULL JOIN _inc_prev p USING (rk)
            WHERE n.rk IS NULL OR p.rk IS NULL OR p.guarded OR n.fingerprint IS DISTINCT FROM p.fingerprint
            UNION ALL
            SELECT rk FROM _inc_prev WHERE customer_id IN (SELECT customer_id FROM big)
            UNION ALL  -- a record mapped twice (a map no run of ours writes) is resolved again
            SELECT rk FROM _inc_prev GROUP BY rk HAVING count(*) > 1
        );
        CREATE OR REPLACE TEMP TABLE _inc_frontier AS SELECT rk FROM _inc_reach;
        CREATE OR REPLACE TEMP TABLE _inc_seen (vk UBIGINT);
        """
    )
    records, reached = con.execute(
        "SELECT greatest((SELECT count(DISTINCT rk) FROM _inc_ids), 1), (SELECT count(*) FROM _inc_reach)"
    ).fetchone()
    while reached <= MAX_SHARE * records:
        if not (reached := _widen(con, config, reached)):
            return _materialize(con, previous_map)
    _drop_scratch(con)  # the whole graph is resolved: these would only hold memory
    return None


def _widen(con: duckdb.DuckDBPyConnection, config: GuardrailConfig, reached: int) -> int:
    """Add to `_inc_reach` what the frontier reaches in one step; returns the new count, 0 if none."""
    added = con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _inc_new_values AS
        SELECT DISTINCT vk FROM _inc_ids
        WHERE rk IN (SELECT rk FROM _inc_frontier) AND {_IS_VALUE} AND vk NOT IN (SELECT vk FROM _inc_seen);
        INSERT INTO _inc_seen SELECT vk FROM _inc_new_values;
        -- a value's holders are followed when it links now, or may have linked before: counted over
        -- the exact texts, and the holders already reached include every record that changed
        CREATE OR REPLACE TEMP TABLE _inc_followed AS
        SELECT vk FROM (
            SELECT id_type, id_value, any_value(vk) AS vk, count(DISTINCT {_HOLDER}) AS n,
                   count(DISTINCT {_HOLDER}) FILTER (WHERE rk IN (SELECT rk FROM _inc_reach)) AS n_reached
            FROM _inc_ids WHERE vk IN (SELECT vk FROM _inc_new_values) AND {_IS_VALUE}
            GROUP BY id_type, id_value
        )
        WHERE {blocked_rule_sql(config)} IS NULL AND n - n_reached <= {max_records_sql(config)};
        CREATE OR REPLACE TEMP TABLE _inc_next AS
        SELECT DISTINCT rk FROM (
            SELECT rk FROM _inc_ids WHERE vk IN (SELECT vk FROM _inc_followed)
            UNION ALL
            SELECT rk FROM _inc_prev
            WHERE customer_id IN (SELECT customer_id FROM _inc_prev WHERE rk IN (SELECT rk FROM _inc_frontier))
        ) WHERE rk NOT IN (SELECT rk FROM _inc_reach);
        INSERT INTO _inc_reach SELECT rk FROM _inc_next;
        CREATE OR REPLACE TEMP TABLE _inc_frontier AS SELECT rk FROM _inc_next;
        SELECT count(*) FROM _inc_next
        """
    ).fetchone()[0]
    return reached + added if added else 0


def _materialize(con: duckdb.DuckDBPyConnection, previous_map: str) -> Part:
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _inc_part_ids AS
        SELECT source, record_id, id_type, id_value FROM _inc_ids WHERE rk IN (SELECT rk FROM _inc_reach);
        CREATE OR REPLACE TEMP TABLE _inc_value_counts AS
        SELECT id_type, id_value, count(DISTINCT {_HOLDER}) AS n_records FROM _inc_ids
        WHERE vk IN (SELECT DISTINCT vk FROM _inc_ids WHERE rk IN (SELECT rk FROM _inc_reach)) AND {_IS_VALUE}
        GROUP BY id_type, id_value;
        CREATE OR REPLACE TEMP TABLE _inc_previous_map AS
        SELECT source, record_id, customer_id, origin_customer_id FROM {previous_map}
        WHERE {RECORD_KEY} IN (SELECT rk FROM _inc_reach);
        CREATE OR REPLACE TEMP TABLE _inc_kept AS
        SELECT source, record_id, customer_id, origin_customer_id, fingerprint, guarded FROM {previous_map}
        WHERE customer_id IS NOT NULL AND {RECORD_KEY} NOT IN (SELECT rk FROM _inc_reach);
        """
    )
    _drop_scratch(con)
    reached = con.execute("SELECT count(DISTINCT (source, record_id)) FROM _inc_part_ids").fetchone()[0]
    return Part("_inc_part_ids", "_inc_previous_map", "_inc_kept", "_inc_value_counts", int(reached))


def _drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("_inc_ids", "_inc_prev", "_inc_reach", "_inc_seen", "_inc_frontier", "_inc_new_values",
                  "_inc_followed", "_inc_next"):  # fmt: skip
        con.execute(f"DROP TABLE IF EXISTS {table}")
