"""Identity resolution: normalized identifiers, then one customer id per person."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.lake_specs import file_table_result, table_specs, tables_of_step
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import watermarks
from uds_pipelines.lib.identity.sources import SOURCE_TABLES
from uds_pipelines.lib.identity.stage import build_inputs, resolve

INPUT_TABLES = tables_of_step("identity_inputs")
MAP_TABLES = tables_of_step("identity_map")


@dg.multi_asset(
    name="identity_inputs",
    description="Person-level records from every source with their normalized identifiers "
    "(email key, E.164 phone, ids), merged from the batches landed since the last run.",
    specs=table_specs(
        INPUT_TABLES,
        group=c.GROUP_IDENTITY,
        kinds={"duckdb", "parquet"},
        deps=list(SOURCE_TABLES),
    ),
)
def identity_inputs(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Merge new and changed person records from every source and normalize their identifiers."""
    settings = uds.settings()
    stage = build_inputs(settings, rebuild=context.run.tags.get(c.REBUILD_TAG) == "true")
    context.log_event(dg.AssetMaterialization(asset_key=watermarks.TABLE))
    yield file_table_result(
        settings.lake_dir,
        "person_records",
        stage.person_records,
        records_changed=stage.records_changed,
        # behavioural events: anonymous ids tied to one user, and shared devices that link nobody
        anonymous_ids_linked=stage.anonymous_ids_linked,
        shared_anonymous_ids=stage.shared_anonymous_ids,
    )
    yield file_table_result(
        settings.lake_dir,
        "identifiers",
        stage.identifiers,
        identifiers_by_type=dg.MetadataValue.md(stage.by_type.to_markdown(index=False)),
    )
    yield file_table_result(
        settings.lake_dir,
        "rejected_identifiers",
        rejected_by_reason=dg.MetadataValue.md(
            stage.rejected.to_markdown(index=False) if len(stage.rejected) else "none"
        ),
        rejected_identifiers=int(stage.rejected["records"].sum()) if len(stage.rejected) else 0,
    )


@dg.multi_asset(
    name="identity_map",
    description="One customer id per person: identity graph with guardrails, stable ids and a "
    "merge/split log.",
    specs=table_specs(
        MAP_TABLES,
        group=c.GROUP_IDENTITY,
        kinds={"duckdb", "parquet"},
        deps=["person_records", "identifiers"],
    ),
    check_specs=[
        dg.AssetCheckSpec(
            c.CHECK_MAP_COMPLETE,
            asset="identity_map",
            blocking=True,
            description="Every person record maps to exactly one customer id (blocks everything downstream).",
        ),
        dg.AssetCheckSpec(
            c.CHECK_COMPONENT_SIZE,
            asset="identity_map",
            description="No customer holds more records than the guardrail threshold (warns of junk identifiers).",
        ),
    ],
)
def identity_map(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """One customer id per person: identity graph with guardrails, stable ids and a merge/split log."""
    settings = uds.settings()
    stage = resolve(settings, context.run.run_id, rebuild=context.run.tags.get(c.REBUILD_TAG) == "true")
    stats = {k: v for k, v in stage.stats.items() if isinstance(v, (int, float, str))}
    report, biggest = stage.guardrail_report, stage.largest_components
    context.log.info(f"identity: {stats}")
    yield file_table_result(
        settings.lake_dir,
        "identity_map",
        int(stage.stats.get("records", 0)),
        **{
            "customers": int(stage.stats.get("customers", 0)),
            "merges": int(stage.stats.get("merges", 0)),
            "splits": int(stage.stats.get("splits", 0)),
            "revived": int(stage.stats.get("revived", 0)),
            "guardrail_report": dg.MetadataValue.md(
                report.to_markdown(index=False) if len(report) else "nothing cut"
            ),
            "timings_seconds": dg.MetadataValue.json(stage.stats.get("seconds", {})),
            **_probabilistic_metadata(stage.stats, stage.match_weight_histogram),
        },
    )
    for table in MAP_TABLES:
        if table != "identity_map":
            yield file_table_result(settings.lake_dir, table)
    yield dg.AssetCheckResult(
        asset_key="identity_map",
        check_name=c.CHECK_MAP_COMPLETE,
        passed=stage.records_without_customer == 0,
        metadata={"records_without_customer": stage.records_without_customer},
    )
    oversized = stage.oversized_components
    yield dg.AssetCheckResult(
        asset_key="identity_map",
        check_name=c.CHECK_COMPONENT_SIZE,
        passed=oversized.empty,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(oversized)} customer(s) hold more than {stage.warn_component_records} records; "
            "the identifier most of their records share is the likely junk value to block"
            if len(oversized)
            else None
        ),
        metadata={
            "threshold_records": stage.warn_component_records,
            "oversized_components": dg.MetadataValue.md(
                oversized.to_markdown(index=False) if len(oversized) else "none"
            ),
            "largest_components": dg.MetadataValue.md(biggest.to_markdown(index=False)),
        },
    )


def _probabilistic_metadata(stats: dict, histogram) -> dict:
    """Which model scored the fuzzy matches, its threshold, the links it made or had cut and the
    match-weight histogram of the pairs it scored (empty when off)."""
    if stats.get("matching") != "probabilistic":
        return {}
    meta = {
        "probabilistic_model": str(stats.get("probabilistic_model", "")),
        "probabilistic_threshold": float(stats.get("probabilistic_threshold", 0.0)),
        "probabilistic_threshold_weight": float(stats.get("probabilistic_threshold_weight", 0.0)),
        "probabilistic_threshold_rule": str(stats.get("probabilistic_threshold_rule", "")),
        "probabilistic_links": int(stats.get("probabilistic_links", 0)),
        "probabilistic_links_cut": int(stats.get("probabilistic_links_cut", 0)),
        "probabilistic_chain_cuts": int(stats.get("probabilistic_chain_cuts", 0)),
        "match_review_pairs": int(stats.get("probabilistic_review_pairs", 0)),
        "match_weight_histogram": dg.MetadataValue.md(
            histogram.to_markdown(index=False) if len(histogram) else "no pairs scored"
        ),
    }
    if stats.get("probabilistic_training_error"):
        meta["probabilistic_training_error"] = str(stats["probabilistic_training_error"])
    return meta
