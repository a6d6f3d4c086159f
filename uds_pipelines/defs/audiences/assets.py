"""Consent-safe audiences: planned members, a blocking consent check, export files, warehouse tables."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.lake_specs import file_table_result, table_specs, tables_of_step
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.audiences.stage import (
    build_audience_members,
    check_members_consent,
    export_audiences,
)
from uds_pipelines.lib.audiences.warehouse_stage import publish_warehouse_tables


@dg.multi_asset(
    name="audience_members",
    description="Members of each audience (UDS_AUDIENCES_FILE) who consented to its purpose and are not "
    "erased or suppressed.",
    specs=table_specs(
        tables_of_step("audience_members"),
        group=c.GROUP_AUDIENCES,
        kinds={"duckdb", "parquet"},
        deps=["segment_membership", "customer_profiles", "effective_consent", "suppression"],
    ),
)
def audience_members(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Members of each audience (UDS_AUDIENCES_FILE) who consented to its purpose and are not erased or suppressed."""
    settings = uds.settings()
    stage = build_audience_members(settings)
    for error in stage.errors:
        context.log.error(f"audience {error.name!r} skipped: {error.message}")
    counts = stage.counts
    yield file_table_result(
        settings.lake_dir, "audience_members", stage.rows, definition_errors=len(stage.errors)
    )
    yield file_table_result(
        settings.lake_dir,
        "audience_counts",
        counts=dg.MetadataValue.md(counts.to_markdown(index=False) if len(counts) else "no audiences"),
    )


@dg.asset_check(
    asset="audience_members",
    name=c.CHECK_AUDIENCE_CONSENT_SAFE,
    blocking=True,
    description="No audience member lacks consent for the audience's purpose or is erased or suppressed "
    "(blocks the exports).",
)
def audience_members_consent_safe(uds: UdsSettingsResource) -> dg.AssetCheckResult:
    """Zero members without consent for their audience's purpose and zero erased or suppressed people."""
    check = check_members_consent(uds.settings())
    return dg.AssetCheckResult(
        passed=check.passed,
        description=None
        if check.passed
        else "audience members without consent or erased: nothing will be exported",
        metadata={
            "rows_without_consent": check.rows_without_consent,
            "rows_erased_or_suppressed": check.rows_erased_or_suppressed,
            "by_audience": dg.MetadataValue.json(check.by_audience),
        },
    )


@dg.asset(group_name=c.GROUP_AUDIENCES, kinds={"csv"}, owners=c.OWNERS, deps=["audience_members"])
def audience_exports(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Dated audience files with a manifest under `exports/audiences/<audience>/`."""
    table = export_audiences(uds.settings(), context.run.run_id).files
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(table["rows"].sum()) if len(table) else 0,
            "files": dg.MetadataValue.md(table.to_markdown(index=False) if len(table) else "none"),
        }
    )


@dg.asset(
    group_name=c.GROUP_AUDIENCES,
    kinds={"sqlite", "postgres"},
    owners=c.OWNERS,
    deps=[
        "customer_profiles",
        "segment_membership",
        "segment_history",
        "identity_map",
        "effective_consent",
        "audience_members",
        "customer_kpis",
    ],
)
def warehouse_tables(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Keyed BI tables (docs/warehouse.md) upserted into UDS_WAREHOUSE_URL, one transaction per table."""
    stage = publish_warehouse_tables(uds.settings())
    tables = stage.tables
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(t.rows for t in tables.values()),
            "changes": dg.MetadataValue.md(stage.summary_markdown()),
            "rows_changed": sum(t.inserted + t.updated + t.deleted for t in tables.values()),
        }
        | {name: counts.rows for name, counts in tables.items()}
    )
