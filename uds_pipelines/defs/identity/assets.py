"""Identity resolution: normalized identifiers, then one customer id per person."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import lake
from uds_pipelines.lib.identity.guardrails import GuardrailConfig
from uds_pipelines.lib.identity.inputs import attributes_sql, build_identity_inputs, resolution_connection
from uds_pipelines.lib.identity.resolve import resolve_identities, write_outputs

IDENTITY_DIR = "identity"
IDENTIFIER_COLUMNS = {"source": "VARCHAR", "record_id": "VARCHAR", "id_type": "VARCHAR", "id_value": "VARCHAR",
                      "observed_at": "TIMESTAMPTZ"}  # fmt: skip
COMPONENT_WARN_RECORDS = 25


@dg.asset(
    group_name=c.GROUP_IDENTITY,
    kinds={"duckdb", "parquet"},
    owners=c.OWNERS,
    deps=["stripe_staging", "landed_survey_responses", "landed_form_submissions"],
)
def identity_inputs(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Person-level records from every source with their normalized identifiers (email key, E.164 phone, ids)."""
    settings = uds.settings()
    con = resolution_connection(settings.default_region, settings.duckdb_memory_limit)
    try:
        counts = build_identity_inputs(con, settings.lake_dir, settings.default_region)
        by_type = con.execute(
            f"SELECT id_type, count(*) AS n FROM read_parquet('{settings.lake_dir / 'identity/identifiers.parquet'}') "
            "GROUP BY 1 ORDER BY 1"
        ).df()
    finally:
        con.close()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["person_records"],
            "identifiers": counts["identifiers"],
            "identifiers_by_type": dg.MetadataValue.md(by_type.to_markdown(index=False)),
        }
    )


@dg.asset(
    group_name=c.GROUP_IDENTITY,
    kinds={"duckdb", "parquet"},
    owners=c.OWNERS,
    deps=[identity_inputs],
    check_specs=[
        dg.AssetCheckSpec(c.CHECK_MAP_COMPLETE, asset="identity_map", blocking=True),
        dg.AssetCheckSpec(c.CHECK_COMPONENT_SIZE, asset="identity_map"),
    ],
)
def identity_map(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """One customer id per person: identity graph with guardrails, stable ids and a merge/split log."""
    settings = uds.settings()
    out = settings.lake_dir / IDENTITY_DIR
    con = resolution_connection(settings.default_region, settings.duckdb_memory_limit)
    try:
        identifiers = lake.read_table_sql(
            out / "identifiers.parquet", {"source": "VARCHAR", "record_id": "VARCHAR"}
        )
        result = resolve_identities(
            con,
            identifiers,
            previous_map_path=_existing(out / "identity_map.parquet"),
            previous_registry_path=_existing(out / "customer_registry.parquet"),
            config=GuardrailConfig(),
            run_id=context.run.run_id,
            now=settings.as_of(),
            matching=settings.matching,
            person_attributes_sql=attributes_sql(settings.lake_dir)
            if settings.matching == "probabilistic"
            else None,
        )
        write_outputs(con, result, out)
        unmapped = con.execute(
            f"SELECT count(*) FROM (SELECT DISTINCT source, record_id FROM {identifiers}) i "
            f"ANTI JOIN {result.tables['identity_map']} m USING (source, record_id)"
        ).fetchone()[0]
        biggest = con.execute(
            f"SELECT customer_id, count(*) AS records FROM {result.tables['identity_map']} "
            f"GROUP BY 1 ORDER BY 2 DESC LIMIT 5"
        ).df()
        report = con.execute(
            f"SELECT rule, id_type, id_value_masked, records_affected, links_cut FROM {result.tables['guardrail_report']} "
            "ORDER BY records_affected DESC LIMIT 20"
        ).df()
    finally:
        con.close()
    stats = {k: v for k, v in result.stats.items() if isinstance(v, (int, float, str))}
    context.log.info(f"identity: {stats}")
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(result.stats.get("records", 0)),
            "customers": int(result.stats.get("customers", 0)),
            "merges": int(result.stats.get("merges", 0)),
            "splits": int(result.stats.get("splits", 0)),
            "guardrail_report": dg.MetadataValue.md(
                report.to_markdown(index=False) if len(report) else "nothing cut"
            ),
            "timings_seconds": dg.MetadataValue.json(result.stats.get("seconds", {})),
        }
    )
    yield dg.AssetCheckResult(
        check_name=c.CHECK_MAP_COMPLETE,
        passed=unmapped == 0,
        metadata={"records_without_customer": int(unmapped)},
    )
    oversized = biggest[biggest["records"] > COMPONENT_WARN_RECORDS]
    yield dg.AssetCheckResult(
        check_name=c.CHECK_COMPONENT_SIZE,
        passed=oversized.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "threshold_records": COMPONENT_WARN_RECORDS,
            "largest_components": dg.MetadataValue.md(biggest.to_markdown(index=False)),
        },
    )


def _existing(path):
    return path if path.exists() else None
