"""Behavioural events: landing of inbox/events (Segment/RudderStack messages) into `events`
(`lake/events/day=YYYY-MM-DD/`), with the tracking plan's findings as metadata.

Not a Dagster-partitioned asset: the sensor lands whatever files arrived, and one file holds
events of several days (late and offline events), so a run cannot be one day's partition; the
day folders in the lake are the partitioning (docs/events_landing.md)."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.ingest.file_landing import (
    LandingConfig,
    conservation_check,
    conservation_spec,
    landing_metadata,
    shared_folder_events,
)
from uds_pipelines.defs.lake_specs import table_specs, tables_of_step
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import lake_views
from uds_pipelines.lib.ingest.events.stage import EventsStage, land_events

STEP = "landed_events"


def plan_metadata(stage: EventsStage) -> dict:
    """Tracking-plan violations per event name: counts, and a small table of the most frequent."""
    table = stage.violations_table()
    return {
        "plan_violations_flagged": int(table["flagged"].sum()),
        "plan_violations_quarantined": int(table["quarantined"].sum()),
        "plan_events_with_violations": int(table["event"].nunique()),
        "plan_violations": dg.MetadataValue.md(
            table.head(20).to_markdown(index=False) if len(table) else "_no violations_"
        ),
    }


@dg.multi_asset(
    name=STEP,
    description="Segment/RudderStack messages from inbox/events, checked against the tracking plan, "
    "deduplicated by messageId and landed as Parquet in day folders.",
    specs=table_specs(tables_of_step(STEP), group=c.GROUP_INGEST, kinds={"parquet", "duckdb"}),
    check_specs=[conservation_spec("events")],
)
def landed_events(context: dg.AssetExecutionContext, config: LandingConfig, uds: UdsSettingsResource):
    settings = uds.settings()
    stage = land_events(settings, config.files, config.max_files)
    summary = stage.summary
    context.log.info(
        f"events: {len(summary.new_files)} new file(s), {summary.records_landed} landed, "
        f"{summary.records_quarantined} quarantined, {summary.duplicates_skipped} duplicates, "
        f"days {', '.join(sorted(stage.days)) or 'none'}"
    )
    for event in shared_folder_events(STEP, summary):
        context.log_event(event)
    yield dg.MaterializeResult(
        asset_key="events",
        metadata=landing_metadata(summary, stage.preview)
        | plan_metadata(stage)
        | {
            # the table's total, as the catalog shows it; this run's batch is `records_landed`
            "dagster/row_count": lake_views.row_count(settings.lake_dir, "events"),
            "duplicates_skipped": summary.duplicates_skipped,
            "days_written": ", ".join(sorted(stage.days)) or "none",
        },
    )
    yield conservation_check(stage, "events")

