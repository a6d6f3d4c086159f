"""The identity stages as whole operations over the lake (what the assets run)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from uds_pipelines.lib import connection, locks
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.identity.guardrails import GuardrailConfig, mask_identifier
from uds_pipelines.lib.identity.inputs import build_identity_inputs
from uds_pipelines.lib.identity.rejections import rejection_summary
from uds_pipelines.lib.identity.resolve import ResolutionResult, resolve_identities, write_outputs
from uds_pipelines.lib.identity.sources import person_attributes_sql


@dataclass
class IdentityInputsStage:
    person_records: int
    identifiers: int
    by_type: pd.DataFrame
    rejected: pd.DataFrame  # id_type, reason, records (no values)
    records_changed: int  # records new, changed or dropped this run: the only ones normalized
    anonymous_ids_linked: int = 0  # behavioural events' anonymous ids tied to a user
    shared_anonymous_ids: int = 0  # seen with too many users (a shared device): linking nobody


@dataclass
class ResolutionStage:
    stats: dict[str, Any]
    records_without_customer: int
    largest_components: pd.DataFrame  # customer_id, records (ids are random, not personal data)
    guardrail_report: pd.DataFrame  # values masked
    oversized_components: pd.DataFrame  # customer_id, records, and the value holding most of them, masked
    warn_component_records: int
    # probabilistic matching: scored pairs per match-weight bin (empty when deterministic)
    match_weight_histogram: pd.DataFrame


def build_inputs(settings: Settings, rebuild: bool = False) -> IdentityInputsStage:
    """Merge new and changed person records and their normalized identifiers (one run at a time)."""
    with locks.step_lock(settings.locks_dir, "identity_inputs"):
        return _build_inputs(settings, rebuild)


def _build_inputs(settings: Settings, rebuild: bool) -> IdentityInputsStage:
    con = connection.for_settings(settings, layers=())  # build_identity_inputs binds the views it reads
    try:
        counts = build_identity_inputs(
            con,
            settings.lake_dir,
            settings.default_region,
            rebuild=rebuild,
            max_users_per_anonymous_id=settings.guardrails().max_users_per_anonymous_id,
        )
        by_type = con.execute("SELECT id_type, count(*) AS n FROM identifiers GROUP BY 1 ORDER BY 1").df()
        rejected = rejection_summary(con)
    finally:
        con.close()
    return IdentityInputsStage(
        counts["person_records"],
        counts["identifiers"],
        by_type,
        rejected,
        counts["records_changed"],
        counts["anonymous_ids_linked"],
        counts["shared_anonymous_ids"],
    )


def resolve(
    settings: Settings, run_id: str, guardrails: GuardrailConfig | None = None, rebuild: bool = False
) -> ResolutionStage:
    """Resolve identifiers into people with stable ids; writes identity_map, registry, changes, report
    and the probabilistic match links. Guardrails: `guardrails`, else `UDS_IDENTITY_GUARDRAILS`.
    Only what changed since the previous run is resolved again, unless `rebuild`."""
    with locks.step_lock(settings.locks_dir, "identity_map"):
        return _resolve(settings, run_id, guardrails, rebuild)


def _resolve(
    settings: Settings, run_id: str, guardrails: GuardrailConfig | None, rebuild: bool
) -> ResolutionStage:
    config = guardrails or settings.guardrails()
    con = connection.for_settings(settings, connection.DERIVED_LAYERS)  # identifiers, the previous map
    try:
        probabilistic = settings.matching == "probabilistic"
        # identifiers, and the previous identity_map and customer_registry: the connection's views
        result = resolve_identities(
            con,
            config=config,
            run_id=run_id,
            now=settings.as_of(),
            matching=settings.matching,
            person_attributes_sql=person_attributes_sql() if probabilistic else None,
            # fixed weights over-trust names (precision 0.946 on generated data); trained: 0.996
            train_probabilistic=probabilistic,
            incremental=not rebuild,
        )
        write_outputs(con, settings.lake_dir, result)
        id_map = result.tables["identity_map"]
        unmapped = unmapped_records(con, id_map)
        biggest = con.execute(
            f"SELECT customer_id, count(*) AS records FROM {id_map} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5"
        ).df()
        report = con.execute(
            "SELECT rule, id_type, id_value_masked, records_affected, links_cut "
            f"FROM {result.tables['guardrail_report']} ORDER BY records_affected DESC LIMIT 20"
        ).df()
        oversized = oversized_components(con, result, config.warn_component_records)
    finally:
        con.close()
    histogram = pd.DataFrame(
        result.stats.get("probabilistic_weight_histogram", []), columns=["match_weight_from", "pairs", "side"]
    )
    return ResolutionStage(
        result.stats, int(unmapped), biggest, report, oversized, config.warn_component_records, histogram
    )


def unmapped_records(con, id_map: str) -> int:
    """How many records of `identifiers` have no row in `id_map` (the anti join first: the distinct
    records of what is left, not of every identifier row: 6M at 10M events)."""
    return con.execute(
        "SELECT count(*) FROM (SELECT DISTINCT source, record_id FROM identifiers "
        f"ANTI JOIN {id_map} m USING (source, record_id))"
    ).fetchone()[0]


def oversized_components(con, result: ResolutionResult, threshold: int, limit: int = 10) -> pd.DataFrame:
    """Components above `threshold` records, each with the shared value most of its records hold
    (masked): the likely junk identifier the guardrails did not catch."""
    frame = con.execute(
        f"""
        WITH big AS (
            SELECT customer_id, count(*) AS records FROM {result.tables["identity_map"]}
            GROUP BY 1 HAVING count(*) > {int(threshold)}
        ),
        glue AS (
            SELECT l.customer_id, l.id_type, l.id_value, count(*) AS holders
            FROM {result.tables["identity_links"]} l SEMI JOIN big USING (customer_id)
            WHERE l.id_type NOT IN ('record', 'probabilistic') GROUP BY 1, 2, 3
            QUALIFY row_number() OVER (PARTITION BY l.customer_id ORDER BY count(*) DESC, l.id_type, l.id_value) = 1
        )
        SELECT big.customer_id, big.records, glue.id_type AS top_identifier_type,
               glue.id_value AS top_identifier, glue.holders AS records_holding_it
        FROM big LEFT JOIN glue USING (customer_id) ORDER BY big.records DESC, big.customer_id LIMIT {int(limit)}
        """
    ).df()
    frame["top_identifier"] = [
        mask_identifier(t, v) if isinstance(v, str) else None
        for t, v in zip(frame["top_identifier_type"], frame["top_identifier"], strict=True)
    ]
    return frame
