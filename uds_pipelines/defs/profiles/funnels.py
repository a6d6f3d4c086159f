"""Funnel conversion KPIs over behavioural events (the funnels of UDS_TRAITS_FILE)."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.lake_specs import file_table_result, table_specs
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.profiles.funnels import build_funnels


@dg.multi_asset(
    name="event_funnels",
    description="People per funnel step (UDS_TRAITS_FILE) and the conversion between steps, as of UDS_AS_OF.",
    specs=table_specs(
        ["event_funnels"],
        group=c.GROUP_PROFILES,
        kinds={"duckdb", "parquet"},
        deps=["events", "identity_map"],
    ),
)
def event_funnels(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """People per funnel step and the conversion between steps, as of UDS_AS_OF."""
    settings = uds.settings()
    stage = build_funnels(settings)
    for error in stage.errors:
        context.log.error(f"funnel {error.name!r} skipped: {error.message}")
    table = stage.table.drop(columns=["as_of"])
    # Numeric entries plot across materializations: one conversion figure per funnel.
    overall = {
        f"{funnel}_conversion": dg.MetadataValue.float(float(rows["conversion_from_start"].iloc[-1]))
        for funnel, rows in table.groupby("funnel")
        if rows["conversion_from_start"].notna().iloc[-1]
    }
    return file_table_result(
        settings.lake_dir,
        "event_funnels",
        len(table),
        funnels=dg.MetadataValue.md(table.to_markdown(index=False) if len(table) else "no funnels defined"),
        funnel_errors=dg.MetadataValue.md(
            "\n".join(f"- `{e.name}`: {e.message}" for e in stage.errors) or "none"
        ),
        **overall,
    )
