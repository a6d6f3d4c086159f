"""Consent-safe audiences: planned members, a blocking consent check, export files, warehouse tables."""

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from uds_pipelines import constants as c
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import connection, lake, warehouse
from uds_pipelines.lib.audiences.definitions import load_audiences
from uds_pipelines.lib.audiences.export import audience_members_table, write_audience_files
from uds_pipelines.lib.audiences.plan import FORMAT_COLUMNS, AudiencePlan, plan_audience
from uds_pipelines.lib.audiences.verify import verify_members
from uds_pipelines.lib.consent.stage import EFFECTIVE
from uds_pipelines.lib.privacy.exclusions import excluded_customers_sql
from uds_pipelines.lib.segments.definitions import load_segments

MEMBERS = "audiences/audience_members.parquet"
COUNTS = "audiences/audience_counts.parquet"


def _effective_sql(lake_dir) -> str:
    return lake.read_table_sql(
        lake_dir / EFFECTIVE, {"customer_id": "VARCHAR", "purpose": "VARCHAR", "granted": "BOOLEAN"}
    )


def _load(settings):
    segments, _ = load_segments(settings.segments_file)
    return load_audiences(settings.audiences_file, settings.purposes, [s.name for s in segments])


@dg.asset(
    group_name=c.GROUP_AUDIENCES, kinds={"duckdb", "parquet"}, owners=c.OWNERS, deps=["segment_membership"]
)
def audience_members(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Members of each audience (UDS_AUDIENCES_FILE) who consented to its purpose and are not erased or suppressed."""
    settings = uds.settings()
    lake_dir = settings.lake_dir
    audiences, errors = _load(settings)
    for error in errors:
        context.log.error(f"audience {error.name!r} skipped: {error.message}")
    con = connection.connect(settings.default_region, settings.duckdb_memory_limit)
    try:
        excluded = excluded_customers_sql(con, lake_dir, settings.suppression_key())
        plans = [
            plan_audience(
                con,
                audience,
                lake.parquet_relation(lake_dir / lake.SEGMENT_MEMBERSHIP),
                lake.parquet_relation(lake_dir / lake.PROFILES),
                _effective_sql(lake_dir),
                excluded,
            )
            for audience in audiences
        ]
        members = audience_members_table(plans, settings.as_of())
    finally:
        con.close()
    lake.write_parquet_atomic(members, lake_dir / MEMBERS)
    counts = pd.DataFrame([{"audience": p.audience.name} | p.counts for p in plans])
    lake.write_parquet_atomic(counts if len(counts) else pd.DataFrame({"audience": []}), lake_dir / COUNTS)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": members.num_rows,
            "counts": dg.MetadataValue.md(counts.to_markdown(index=False) if len(counts) else "no audiences"),
            "definition_errors": len(errors),
        }
    )


@dg.asset_check(asset=audience_members, name=c.CHECK_AUDIENCE_CONSENT_SAFE, blocking=True)
def audience_members_consent_safe(uds: UdsSettingsResource) -> dg.AssetCheckResult:
    """Zero members without consent for their audience's purpose and zero erased or suppressed people."""
    settings = uds.settings()
    lake_dir = settings.lake_dir
    con = connection.connect(settings.default_region, settings.duckdb_memory_limit)
    try:
        excluded = excluded_customers_sql(con, lake_dir, settings.suppression_key())
        result = verify_members(con, lake_dir / MEMBERS, _effective_sql(lake_dir), excluded)
    finally:
        con.close()
    passed = result["rows_without_consent"] == 0 and result["rows_erased_or_suppressed"] == 0
    return dg.AssetCheckResult(
        passed=passed,
        description=None
        if passed
        else "audience members without consent or erased: nothing will be exported",
        metadata={
            "rows_without_consent": result["rows_without_consent"],
            "rows_erased_or_suppressed": result["rows_erased_or_suppressed"],
            "by_audience": dg.MetadataValue.json(result["by_audience"]),
        },
    )


@dg.asset(group_name=c.GROUP_AUDIENCES, kinds={"csv"}, owners=c.OWNERS, deps=[audience_members])
def audience_exports(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Dated audience files with a manifest under exports/audiences/<audience>/."""
    settings = uds.settings()
    lake_dir = settings.lake_dir
    audiences, _ = _load(settings)
    members = lake.read_arrow(lake_dir / MEMBERS)
    counts = (
        lake.read_frame(lake_dir / COUNTS).set_index("audience") if (lake_dir / COUNTS).exists() else None
    )
    con = connection.connect(settings.default_region, settings.duckdb_memory_limit)
    written = []
    try:
        excluded = excluded_customers_sql(con, lake_dir, settings.suppression_key())
        for audience in audiences:
            if "file" not in audience.destinations or counts is None or audience.name not in counts.index:
                continue
            rows = members.filter(pc.equal(members["audience"], audience.name))
            plan = AudiencePlan(
                audience=audience,
                rows=rows.select(FORMAT_COLUMNS[audience.format]),
                counts={k: int(v) for k, v in counts.loc[audience.name].items() if pd.notna(v)},
                effective_consent_sql=_effective_sql(lake_dir),
                excluded_customers_sql=excluded,
                con=con,
            )
            paths = write_audience_files(plan, settings.exports_dir, context.run.run_id, settings.as_of())
            written.append({"audience": audience.name, "file": paths[0].name, "rows": rows.num_rows})
    finally:
        con.close()
    table = pd.DataFrame(written)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(table["rows"].sum()) if len(table) else 0,
            "files": dg.MetadataValue.md(table.to_markdown(index=False) if len(table) else "none"),
        }
    )


@dg.asset(
    group_name=c.GROUP_AUDIENCES, kinds={"sqlite", "postgres"}, owners=c.OWNERS, deps=[audience_members]
)
def warehouse_tables(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """customer_profiles and audience_members published to UDS_WAREHOUSE_URL, each run in one transaction."""
    settings = uds.settings()
    lake_dir = settings.lake_dir
    audiences, _ = _load(settings)
    to_warehouse = {a.name for a in audiences if "warehouse" in a.destinations}
    members = lake.read_arrow(lake_dir / MEMBERS)
    members = members.filter(pc.is_in(members["audience"], pa.array(sorted(to_warehouse), pa.string())))
    counts = warehouse.publish_tables(
        settings.warehouse_url,
        {"customer_profiles": lake.read_arrow(lake_dir / lake.PROFILES), "audience_members": members},
    )
    return dg.MaterializeResult(
        metadata={"dagster/row_count": sum(counts.values())} | {k: int(v) for k, v in counts.items()}
    )
