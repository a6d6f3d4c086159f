"""Builds the integer-encoded identity graph in DuckDB and applies the guardrails to it."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from uds_pipelines.lib.identity import scratch
from uds_pipelines.lib.identity.graph import components_table
from uds_pipelines.lib.identity.guardrails import (
    RULE_MAX_RECORDS,
    RULE_TYPE_LIMIT,
    GuardrailConfig,
    blocked_rule_sql,
    mask_identifier,
    max_records_sql,
    sql_quote,
)

# The keys of a record and of a value (DuckDB's 64-bit string hash; clashes are checked, see
# `build_graph`), two more keys of a value, and a record's hash of every identifier it holds, which
# `incremental` compares from run to run: sums (independent of order) of the two keys never replaced
# by `_rekey_clashes`. DuckDB's hash is weak (similar texts of one length clash), so a change hides
# only if both clash, on texts laid out differently.
RECORD_KEY = "hash(source || chr(31) || record_id)"
VALUE_KEY = "hash(id_type || chr(31) || id_value)"
VALUE_KEY2 = "hash(id_value || chr(30) || id_type)"
VALUE_KEY3 = "hash(chr(29) || id_type || chr(29) || id_value)"
IDENTIFIERS_HASH = "hash(sum(vk2), sum(vk3))"


def keyed_identifiers_sql(identifiers_table: str) -> str:
    """The rows of `identifiers_table` that name a record, as text, with the keys above (`rk`, `vk`,
    `vk2`, `vk3`): what the graph and `incremental` both start from."""
    return f"""
        SELECT source, record_id, id_type, id_value,
               {RECORD_KEY} AS rk, {VALUE_KEY} AS vk, {VALUE_KEY2} AS vk2, {VALUE_KEY3} AS vk3
        FROM (
            SELECT source::VARCHAR AS source, record_id::VARCHAR AS record_id,
                   id_type::VARCHAR AS id_type, id_value::VARCHAR AS id_value
            FROM {identifiers_table} WHERE source IS NOT NULL AND record_id IS NOT NULL
        )
    """

# Values followed as links: not cut by any guardrail and shared by at least two records.
LINK_EDGES_SQL = f"""
    SELECT o.rec_idx, o.val_id FROM {scratch.OBS} o JOIN {scratch.VALUES} v USING (val_id)
    WHERE v.rule IS NULL AND v.n_records >= 2
"""


def build_graph(
    con: duckdb.DuckDBPyConnection,
    identifiers_table: str,
    config: GuardrailConfig,
    *,
    exact_keys: bool | None = None,
    value_counts: str | None = None,
) -> tuple[int, int]:
    """Create `_idr_records`, `_idr_values` (with the value-level guardrail verdicts), `_idr_obs`
    and `_idr_fingerprints` from `identifiers_table` (a table or view: source, record_id, id_type,
    id_value, ...).

    Records and values are joined on 64-bit hashes of their text, which is several times faster than
    joining strings; if any hash is shared by two different texts (checked with a second hash, not
    assumed) the graph is rebuilt on exact dense ranks. `exact_keys=True` forces the exact path.
    `value_counts` (id_type, id_value, n_records), when given, holds the records holding each value
    in the whole graph, of which `identifiers_table` is a part (`incremental`). Returns (#records, #values).
    """
    con.execute(f"DROP TABLE IF EXISTS {scratch.PAIRS}")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.INPUT} AS
        SELECT *, hash(record_id || chr(30) || source) AS rk2,
               id_type = 'record' AND id_value = source || ':' || record_id AS self_ref
        FROM ({keyed_identifiers_sql(identifiers_table)})
        """
    )
    if exact_keys or not (_keys_are_unique(con) or _rekey_clashes(con)):
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {scratch.INPUT} AS
            SELECT source, record_id, id_type, id_value, rk2, vk2, vk3, self_ref,
                   dense_rank() OVER (ORDER BY source, record_id)::UBIGINT AS rk,
                   dense_rank() OVER (ORDER BY id_type, id_value)::UBIGINT AS vk
            FROM {scratch.INPUT}
            """
        )
        _keys_are_unique(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.RECORDS} AS
        SELECT (row_number() OVER () - 1)::BIGINT AS rec_idx, rk, source, record_id FROM {scratch.REC_KEYS};
        CREATE OR REPLACE TEMP TABLE {scratch.KEYS} AS
        SELECT (row_number() OVER () - 1)::BIGINT AS val_id, vk, id_type, id_value FROM {scratch.VAL_KEYS};
        CREATE OR REPLACE TEMP TABLE {scratch.OBS} AS
        SELECT DISTINCT r.rec_idx, k.val_id
        FROM {scratch.INPUT} i JOIN {scratch.RECORDS} r USING (rk) JOIN {scratch.KEYS} k USING (vk);
        CREATE OR REPLACE TEMP TABLE {scratch.FINGERPRINTS} AS
        SELECT r.rec_idx, f.identifiers_hash
        FROM (SELECT rk, {IDENTIFIERS_HASH} AS identifiers_hash FROM {scratch.INPUT} GROUP BY rk) f
        JOIN {scratch.RECORDS} r USING (rk);
        DROP TABLE {scratch.INPUT}; DROP TABLE {scratch.REC_KEYS}; DROP TABLE {scratch.VAL_KEYS};
        """
    )
    whole = (
        f"LEFT JOIN {value_counts} w ON w.id_type = k.id_type AND w.id_value = k.id_value"
        if value_counts
        else "LEFT JOIN (SELECT NULL::BIGINT AS n_records) w ON false"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.VALUES} AS
        SELECT k.val_id, k.id_type, k.id_value, coalesce(w.n_records, n.n, 0)::BIGINT AS n_records,
               {blocked_rule_sql(config, "k.id_type", "k.id_value")} AS rule, NULL::INTEGER AS cut_round
        FROM {scratch.KEYS} k LEFT JOIN (SELECT val_id, count(*) AS n FROM {scratch.OBS} GROUP BY val_id) n USING (val_id)
        {whole}
        """
    )
    con.execute(f"DROP TABLE {scratch.KEYS}")
    con.execute(
        f"""
        UPDATE {scratch.VALUES} SET rule = '{RULE_MAX_RECORDS}'
        WHERE rule IS NULL AND n_records > {max_records_sql(config, "id_type")}
        """
    )
    return graph_size(con)


def _rekey_clashes(con: duckdb.DuckDBPyConnection) -> bool:
    """Give the texts of clashing keys an MD5-based key instead; False if keys still clash.

    DuckDB's string hash is fast but weak: similar strings of one length collide (in 10M generated
    events, 84 pairs of e-mails such as `alexander_muller25@` and `alexander.muller22@`), where
    MD5 costs ten times more per string. So only the few clashing texts are hashed again, rather
    than every text ranked exactly (7.6 s of the 10.8 s graph build at 10M), and only their groups
    are made again (grouping every key again cost 1.1 s at 10M). A new key that happens to equal
    another text's key groups the two texts together, which the second hash then flags."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.REKEYED} AS
        SELECT DISTINCT 'v' AS side, md5_number_lower(id_type || chr(31) || id_value) AS k FROM {scratch.INPUT}
        WHERE vk IN (SELECT vk FROM {scratch.VAL_KEYS} WHERE clash)
        UNION ALL
        SELECT DISTINCT 'r', md5_number_lower(source || chr(31) || record_id) FROM {scratch.INPUT}
        WHERE rk IN (SELECT rk FROM {scratch.REC_KEYS} WHERE clash);
        UPDATE {scratch.INPUT} SET vk = md5_number_lower(id_type || chr(31) || id_value)
        WHERE vk IN (SELECT vk FROM {scratch.VAL_KEYS} WHERE clash);
        UPDATE {scratch.INPUT} SET rk = md5_number_lower(source || chr(31) || record_id)
        WHERE rk IN (SELECT rk FROM {scratch.REC_KEYS} WHERE clash);
        DELETE FROM {scratch.VAL_KEYS} WHERE clash;
        DELETE FROM {scratch.REC_KEYS} WHERE clash;
        """
    )
    clashes = _group_keys(
        con,
        records=f"rk IN (SELECT k FROM {scratch.REKEYED} WHERE side = 'r')",
        values=f"vk IN (SELECT k FROM {scratch.REKEYED} WHERE side = 'v')",
    )
    con.execute(f"DROP TABLE {scratch.REKEYED}")
    return clashes == 0


def _keys_are_unique(con: duckdb.DuckDBPyConnection) -> bool:
    """Group `_idr_input` by its keys into `_idr_rec_keys` / `_idr_val_keys`; False if a key covers two texts."""
    return _group_keys(con) == 0


def _group_keys(con: duckdb.DuckDBPyConnection, records: str | None = None, values: str | None = None) -> int:
    """Group `_idr_input` by its keys into `_idr_rec_keys` / `_idr_val_keys` (made anew, or with
    `records` / `values` the groups of the keys those conditions pick added); returns how many
    keys cover two texts.

    A record's own `record` identifier (`source:record_id`) is a value only when another record also
    carries it: the record is a node anyway, and skipping these halves the value table.
    Two texts sharing a key are told apart by a second, independent hash of the same text (comparing
    integers is far cheaper than min/max over strings).
    """
    rec_into, val_into = (
        (f"CREATE OR REPLACE TEMP TABLE {scratch.REC_KEYS} AS", f"CREATE OR REPLACE TEMP TABLE {scratch.VAL_KEYS} AS")
        if records is None
        else (f"INSERT INTO {scratch.REC_KEYS}", f"INSERT INTO {scratch.VAL_KEYS}")
    )
    only_records = f"WHERE {records}" if records else ""
    only_values = f"AND {values}" if values else ""
    return con.execute(
        f"""
        {rec_into}
        SELECT rk, any_value(source) AS source, any_value(record_id) AS record_id, min(rk2) <> max(rk2) AS clash
        FROM {scratch.INPUT} {only_records} GROUP BY rk;
        {val_into}
        SELECT vk, any_value(id_type) AS id_type, any_value(id_value) AS id_value, min(vk2) <> max(vk2) AS clash
        FROM {scratch.INPUT}
        WHERE id_type IS NOT NULL AND id_value IS NOT NULL {only_values}
          AND (NOT self_ref OR vk IN (
              SELECT vk FROM {scratch.INPUT} WHERE id_type = 'record' AND NOT self_ref {only_values}
          ))
        GROUP BY vk;
        -- an own id left out above whose key is a kept value's is another text on that key: the
        -- records would still meet on it in the observations
        UPDATE {scratch.VAL_KEYS} SET clash = true
        WHERE vk IN (SELECT vk FROM {scratch.INPUT} WHERE self_ref {only_values})
          AND vk NOT IN (SELECT vk FROM {scratch.INPUT} WHERE id_type = 'record' AND NOT self_ref {only_values});
        SELECT (SELECT count(*) FROM {scratch.REC_KEYS} WHERE clash) + (SELECT count(*) FROM {scratch.VAL_KEYS} WHERE clash)
        """
    ).fetchall()[0][0]


def add_record_pairs(con: duckdb.DuckDBPyConnection, pairs_table: str) -> int:
    """Add record-record links (`rec_l`, `rec_r`, `match_probability`) as two-record values of type `probabilistic`.

    Treating a fuzzy match as one more identifier lets it pass through the same guardrails.
    Returns the number of pairs added.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.PAIRS} AS
        SELECT p.rec_l, p.rec_r, max(p.match_probability) AS match_probability,
               (SELECT coalesce(max(val_id) + 1, 0) FROM {scratch.VALUES})
                 + row_number() OVER (ORDER BY p.rec_l, p.rec_r) - 1 AS val_id
        FROM {pairs_table} p WHERE p.rec_l <> p.rec_r GROUP BY p.rec_l, p.rec_r
        """
    )
    con.execute(
        f"""
        INSERT INTO {scratch.VALUES}
        SELECT p.val_id, 'probabilistic', l.source || ':' || l.record_id || ' ~ ' || r.source || ':' || r.record_id,
               2, NULL, NULL
        FROM {scratch.PAIRS} p JOIN {scratch.RECORDS} l ON l.rec_idx = p.rec_l JOIN {scratch.RECORDS} r ON r.rec_idx = p.rec_r;
        INSERT INTO {scratch.OBS} SELECT rec_l, val_id FROM {scratch.PAIRS} UNION ALL SELECT rec_r, val_id FROM {scratch.PAIRS};
        """
    )
    return con.execute(f"SELECT count(*) FROM {scratch.PAIRS}").fetchall()[0][0]


def graph_size(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    n_rec = con.execute(f"SELECT count(*) FROM {scratch.RECORDS}").fetchall()[0][0]
    n_val = con.execute(f"SELECT coalesce(max(val_id) + 1, 0) FROM {scratch.VALUES}").fetchall()[0][0]
    return n_rec, n_val


def compute_components(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)create `_idr_comp(rec_idx, comp)` over the links the guardrails allow."""
    n_rec, n_val = graph_size(con)
    return components_table(con, LINK_EDGES_SQL, n_rec, n_val, scratch.COMP)


def enforce_type_limits(con: duckdb.DuckDBPyConnection, config: GuardrailConfig) -> dict[str, int]:
    """Cut links in components holding too many distinct values of a type, then re-run components there.

    Each round, in each offending component, the shared values of the lowest-priority type present
    that link the most records are cut. Stops when no component offends, nothing is left to cut, or
    after `max_rounds`. Returns {"rounds", "values_cut", "components_over_limit"} (the last: still over).
    """
    limits = {t: n for t, n in config.max_values_per_type.items()}
    priority = list(config.type_priority)
    if not limits or not priority:
        return {"rounds": 0, "values_cut": 0, "components_over_limit": 0}
    limit_case = (
        "CASE "
        + " ".join(f"WHEN v.id_type = {sql_quote(t)} THEN {int(n)}" for t, n in limits.items())
        + " END"
    )
    prio_case = (
        "CASE "
        + " ".join(f"WHEN v.id_type = {sql_quote(t)} THEN {i}" for i, t in enumerate(priority))
        + " END"
    )
    type_list = ", ".join(sql_quote(t) for t in limits)
    prio_list = ", ".join(sql_quote(t) for t in priority)
    n_rec, n_val = graph_size(con)
    rounds = cut_total = 0
    offending = 0
    for round_no in range(1, config.max_rounds + 2):
        offending = con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {scratch.OFFENDING} AS
            WITH held AS (  -- distinct (component, value) first: cheaper than count(DISTINCT ...)
                SELECT DISTINCT c.comp, v.id_type, v.val_id
                FROM {scratch.OBS} o JOIN {scratch.COMP} c USING (rec_idx) JOIN {scratch.VALUES} v USING (val_id)
                WHERE v.rule IS NULL AND v.id_type IN ({type_list})
            )
            SELECT DISTINCT comp FROM held v
            GROUP BY comp, id_type HAVING count(*) > any_value({limit_case});
            SELECT count(*) FROM {scratch.OFFENDING}
            """
        ).fetchall()[0][0]
        if offending == 0 or round_no > config.max_rounds:
            break
        cut = con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {scratch.CUT} AS
            WITH cand AS (
                SELECT DISTINCT c.comp, v.val_id, v.n_records, {prio_case} AS prio
                FROM {scratch.OBS} o JOIN {scratch.COMP} c USING (rec_idx) JOIN {scratch.VALUES} v USING (val_id)
                WHERE c.comp IN (SELECT comp FROM {scratch.OFFENDING})
                  AND v.rule IS NULL AND v.n_records >= 2 AND v.id_type IN ({prio_list})
            ),
            weakest AS (SELECT * FROM cand QUALIFY prio = max(prio) OVER (PARTITION BY comp))
            SELECT val_id FROM weakest QUALIFY n_records = max(n_records) OVER (PARTITION BY comp);
            SELECT count(*) FROM {scratch.CUT}
            """
        ).fetchall()[0][0]
        if cut == 0:
            break
        rounds, cut_total = round_no, cut_total + cut
        con.execute(
            f"UPDATE {scratch.VALUES} SET rule = '{RULE_TYPE_LIMIT}', cut_round = {round_no} "
            f"WHERE val_id IN (SELECT val_id FROM {scratch.CUT})"
        )
        recompute_offending(con, n_rec, n_val)
    return {"rounds": rounds, "values_cut": cut_total, "components_over_limit": offending}


def recompute_offending(con: duckdb.DuckDBPyConnection, n_rec: int, n_val: int) -> None:
    """Re-run components only inside the offending components: cutting links can only split them."""
    scope = f"SELECT rec_idx FROM {scratch.COMP} WHERE comp IN (SELECT comp FROM {scratch.OFFENDING})"
    edges = f"SELECT e.rec_idx, e.val_id FROM ({LINK_EDGES_SQL}) e WHERE e.rec_idx IN ({scope})"
    components_table(con, edges, n_rec, n_val, scratch.RELABEL, records_sql=scope)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.COMP} AS
        SELECT c.rec_idx, coalesce(n.comp + (SELECT max(comp) + 1 FROM {scratch.COMP}), c.comp) AS comp
        FROM {scratch.COMP} c LEFT JOIN {scratch.RELABEL} n USING (rec_idx)
        """
    )


def guardrail_report(con: duckdb.DuckDBPyConnection) -> None:
    """Create `_idr_guardrail_report`: one row per identifier value a guardrail refused, masked.

    `records_affected` counts the records holding the value; `links_cut` counts the record-value
    links not followed (0 when the value sat on a single record and linked nothing anyway).
    """
    frame: pd.DataFrame = con.execute(
        f"""
        SELECT rule, id_type, id_value, n_records AS records_affected,
               CASE WHEN n_records >= 2 THEN n_records ELSE 0 END AS links_cut
        FROM {scratch.VALUES} WHERE rule IS NOT NULL ORDER BY rule, id_type, n_records DESC, val_id
        """
    ).fetchdf()
    masked = [mask_identifier(t, v) for t, v in zip(frame["id_type"], frame["id_value"], strict=True)]
    table = pa.table(
        {
            "rule": pa.array(frame["rule"].tolist(), pa.string()),
            "id_type": pa.array(frame["id_type"].tolist(), pa.string()),
            "id_value_masked": pa.array(masked, pa.string()),
            "records_affected": pa.array(frame["records_affected"].tolist(), pa.int64()),
            "links_cut": pa.array(frame["links_cut"].tolist(), pa.int64()),
        }
    )
    con.register(scratch.REPORT_ARROW, table)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {scratch.GUARDRAIL_REPORT} AS SELECT * FROM {scratch.REPORT_ARROW}"
        )
    finally:
        con.unregister(scratch.REPORT_ARROW)
