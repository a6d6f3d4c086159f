"""Top-level identity resolution: identifiers in, identity map / registry / change log / guardrail report out."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from uds_pipelines.lib import catalog, lake, lake_views, storage
from uds_pipelines.lib.identity import linking, scratch
from uds_pipelines.lib.identity.changes import build_changes, build_registry
from uds_pipelines.lib.identity.graph import query_arrow
from uds_pipelines.lib.identity.guardrails import GuardrailConfig
from uds_pipelines.lib.identity.incremental import Part, find_part, fingerprint_sql, settings_salt
from uds_pipelines.lib.identity.match_outputs import build_match_links, build_match_review, no_rows
from uds_pipelines.lib.identity.stable_ids import assign_ids

MATCHING_MODES = ("deterministic", "probabilistic")
# Logical output -> DuckDB temp table holding it after `resolve_identities` (valid on that connection).
OUTPUT_TABLES = {
    "identity_map": scratch.IDENTITY_MAP,
    "customer_registry": scratch.REGISTRY,
    "identity_changes": scratch.CHANGES,
    "guardrail_report": scratch.GUARDRAIL_REPORT,
    "identity_links": scratch.IDENTITY_LINKS,
    "match_links": scratch.MATCH_LINKS,
    "match_review": scratch.MATCH_REVIEW,
}
# Every output but `identity_links` is a catalog table of that name. `identity_links` holds raw identifier
# values: not a lake table, written (next to the identity map) only when asked for.
LINKS_FILE = "identity_links.parquet"


@dataclass
class ResolutionResult:
    """Where the outputs live on the connection, plus counts and timings for metadata (no personal data)."""

    tables: dict[str, str] = field(default_factory=lambda: dict(OUTPUT_TABLES))
    stats: dict[str, Any] = field(default_factory=dict)

    def sql(self, name: str) -> str:
        return f"SELECT * FROM {self.tables[name]}"

    def arrow(self, con: duckdb.DuckDBPyConnection, name: str) -> pa.Table:
        return query_arrow(con, self.sql(name))


def resolve_identities(
    con: duckdb.DuckDBPyConnection,
    identifiers_table: str = "identifiers",
    *,
    previous_map_table: str | None = "identity_map",
    previous_registry_table: str | None = "customer_registry",
    config: GuardrailConfig,
    run_id: str,
    now: datetime,
    matching: str = "deterministic",
    person_attributes_sql: str | None = None,
    train_probabilistic: bool = False,
    incremental: bool = False,
) -> ResolutionResult:
    """Resolve records into people; outputs are DuckDB temp tables named in `ResolutionResult.tables`.

    `identifiers_table` is a table or view with columns (source, record_id, id_type, id_value, ...):
    by default the `identifiers` view of the connection (`lib.connection.connect(lake_dir)`). Every
    (source, record_id) in it gets exactly one customer_id. The previous run's ids come from
    `previous_map_table` and `previous_registry_table` (default the `identity_map` and
    `customer_registry` views; None: no previous run). Records in the previous map but not in
    the input are gone (erasure); their ids are retired when nothing is left. `matching="probabilistic"`
    also links records by Splink over `person_attributes_sql` (source, record_id, first_name_key,
    last_name_key, date_of_birth, postcode, city, address_line1). Persist with `write_outputs`.

    `incremental=True` (deterministic matching) resolves again only the part of the graph this run's
    changes can reach (`incremental`) and keeps the previous map's other rows; the outputs are the
    same as the whole run's, except `identity_links`, which then holds the part's links only.
    """
    if matching not in MATCHING_MODES:
        raise ValueError(f"matching={matching!r} must be one of {', '.join(MATCHING_MODES)}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    config.validate()
    stats: dict[str, Any] = {"matching": matching}
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    salt = settings_salt(config, matching)
    part: Part | None = None
    if incremental and matching == "deterministic" and previous_map_table:
        part = find_part(con, identifiers_table, previous_map_table, config, salt)
        lap("find_part")
    stats["scope"] = "part" if part else "whole"
    stats["records_resolved"], stats["identifier_values"] = linking.build_graph(
        con, part.identifiers if part else identifiers_table, config,
        value_counts=part.value_counts if part else None,
    )  # fmt: skip
    lap("build_graph")
    stats["components_initial"] = linking.compute_components(con)
    lap("components")
    if matching == "probabilistic":
        if not person_attributes_sql:
            raise ValueError("matching='probabilistic' needs person_attributes_sql")
        from uds_pipelines.lib.identity.probabilistic import probabilistic_pairs

        model: dict[str, Any] = {}
        probabilistic_pairs(
            con, person_attributes_sql, threshold=config.match_threshold, train=train_probabilistic,
            report=model,
        )  # fmt: skip
        stats.update({f"probabilistic_{k}": v for k, v in model.items()})
        stats["probabilistic_links"] = linking.add_record_pairs(con, scratch.PROB_PAIRS)
        linking.compute_components(con)
        lap("probabilistic")
    limits = linking.enforce_type_limits(con, config)
    stats.update({f"type_limit_{k}": v for k, v in limits.items()})
    if matching == "probabilistic":
        from uds_pipelines.lib.identity.fuzzy_guard import cap_fuzzy_components
        from uds_pipelines.lib.identity.probabilistic import REVIEW_BAND

        strong = 2.0 ** (stats["probabilistic_threshold_weight"] + REVIEW_BAND)
        stats["probabilistic_chain_cuts"] = cap_fuzzy_components(
            con, config.max_fuzzy_component_records, weak_below=strong / (1 + strong)
        )
    lap("type_limits")

    prev_map = part.previous_map if part else (previous_map_table or no_rows("identity_map"))
    prev_registry = previous_registry_table or no_rows("customer_registry")
    assign_ids(con, prev_map, prev_registry, now)
    build_changes(con, run_id, now)
    build_registry(con, prev_registry, now, kept=part.kept if part else None)
    lap("stable_ids")
    _build_map_and_links(con, salt, kept=part.kept if part else None)
    linking.guardrail_report(con)
    lap("outputs")

    stats.update(_counts(con))
    stats["seconds"] = timings
    return ResolutionResult(stats=stats)


def _build_map_and_links(con: duckdb.DuckDBPyConnection, salt: str, kept: str | None = None) -> None:
    """The map of the records resolved, with each record's fingerprint and whether a guardrail
    refused one of its values, followed by `kept` (the previous map's rows left as they were)."""
    kept_rows = f"UNION ALL SELECT * FROM {kept}" if kept else ""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {scratch.REC_CUSTOMER} AS
        SELECT c.rec_idx, i.customer_id FROM {scratch.COMP} c JOIN {scratch.COMP_IDS} i USING (comp);
        CREATE OR REPLACE TEMP TABLE {scratch.IDENTITY_MAP} AS
        SELECT r.source, r.record_id, rc.customer_id, o.origin_customer_id,
               {fingerprint_sql("f.identifiers_hash", salt)} AS fingerprint,
               r.rec_idx IN (
                   SELECT o.rec_idx FROM {scratch.OBS} o JOIN {scratch.VALUES} v USING (val_id) WHERE v.rule IS NOT NULL
               ) AS guarded
        FROM {scratch.RECORDS} r JOIN {scratch.REC_CUSTOMER} rc USING (rec_idx) JOIN {scratch.REC_ORIGIN} o USING (rec_idx)
        JOIN {scratch.FINGERPRINTS} f USING (rec_idx)
        {kept_rows};
        """
    )
    has_pairs = con.execute(
        f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{scratch.PAIRS}' AND temporary"
    ).fetchall()[0][0]
    probability = (
        f"(SELECT p.match_probability FROM {scratch.PAIRS} p WHERE p.val_id = v.val_id)"
        if has_pairs
        else "NULL::DOUBLE"
    )
    build_match_links(con, bool(has_pairs))
    build_match_review(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW {scratch.IDENTITY_LINKS} AS
        SELECT rc.customer_id, r.source, r.record_id, v.id_type, v.id_value, v.n_records AS records_linked,
               {probability} AS match_probability
        FROM {scratch.OBS} o JOIN {scratch.VALUES} v USING (val_id)
        JOIN {scratch.RECORDS} r USING (rec_idx) JOIN {scratch.REC_CUSTOMER} rc USING (rec_idx)
        WHERE v.rule IS NULL AND v.n_records >= 2
        """
    )


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    row = con.execute(
        f"""
        SELECT (SELECT count(*) FROM {scratch.IDENTITY_MAP}),
               (SELECT count(DISTINCT customer_id) FROM {scratch.IDENTITY_MAP}),
               (SELECT count(*) FROM {scratch.CHANGES} WHERE change = 'new'),
               (SELECT count(*) FROM {scratch.CHANGES} WHERE change = 'merge'),
               (SELECT count(*) FROM {scratch.CHANGES} WHERE change = 'split'),
               (SELECT count(*) FROM {scratch.CHANGES} WHERE change = 'revive'),
               (SELECT count(*) FROM {scratch.REGISTRY} WHERE status = 'retired'),
               (SELECT count(*) FROM {scratch.GUARDRAIL_REPORT}),
               (SELECT coalesce(sum(links_cut), 0) FROM {scratch.GUARDRAIL_REPORT}),
               (SELECT count(*) FROM {scratch.MATCH_LINKS} WHERE NOT followed)
        """
    ).fetchall()[0]
    keys = (
        "records",
        "customers",
        "new",
        "merges",
        "splits",
        "revived",
        "retired_total",
        "guardrail_values",
        "guardrail_links_cut",
        "probabilistic_links_cut",
    )
    return dict(zip(keys, (int(v) for v in row), strict=True))


def write_outputs(
    con: duckdb.DuckDBPyConnection,
    lake_dir: Path,
    result: ResolutionResult,
    *,
    include_links: bool = False,
) -> dict[str, Path]:
    """Write the outputs as the catalog tables of `lake_dir` (`lake_views.write_query`: each checked
    against the catalog, written atomically, its view on `con` refreshed); returns their paths.

    `identity_changes` is a log: this run's rows are appended to what the table already holds
    (rows of the same run_id are replaced, so re-running a run is idempotent). `identity_links` holds raw
    identifier values, so it is written (not a catalog table, next to the identity map) only when asked for.
    """
    lake_dir = storage.as_path(lake_dir)
    folder = catalog.path(lake_dir, "identity_map").parent
    storage.make_private_dirs(folder)
    written: dict[str, Path] = {}
    # the map last: its fingerprints say what the next run may keep, so it must not get ahead of
    # the registry it was resolved against
    for name, table in sorted(result.tables.items(), key=lambda item: item[0] == "identity_map"):
        sql = f"SELECT * FROM {table}"
        if name == "identity_links":
            if include_links:
                written[name] = folder / LINKS_FILE
                lake.copy_query_to_parquet(con, sql, written[name])
            continue
        if name == "identity_changes":
            lake_views.register(con, lake_dir, [name])  # the log as this lake holds it now
            sql = (
                f"SELECT * FROM identity_changes WHERE run_id NOT IN (SELECT DISTINCT run_id FROM {table}) "
                f"UNION ALL BY NAME {sql}"
            )
        lake_views.write_query(con, lake_dir, name, sql)
        written[name] = catalog.path(lake_dir, name)
    return written
