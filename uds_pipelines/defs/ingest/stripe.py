"""Stripe: the Events API catch-up, landing of webhook/API files (`landed_stripe`), and the staging
tables (`stripe_events`, `stripe_customers`, ...: one asset per table, written by one step)."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.ingest.file_landing import (
    LandingConfig,
    conservation_check,
    conservation_spec,
    shared_folder_events,
)
from uds_pipelines.defs.lake_specs import file_table_result, table_specs, tables_of_step
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import lake_views, watermarks
from uds_pipelines.lib.ingest.stripe_stage import land_stripe, pull_missed_events
from uds_pipelines.lib.staging.stripe import build_stripe_staging


class CatchUpConfig(dg.Config):
    lookback_seconds: int = 86400
    max_age_days: int = 30


@dg.asset(group_name=c.GROUP_INGEST, kinds={"stripe", "python"}, owners=c.OWNERS)
def stripe_events_api_pull(
    context: dg.AssetExecutionContext, config: CatchUpConfig, uds: UdsSettingsResource
):
    """Events missed by the webhook receiver, pulled from the Stripe Events API into inbox/stripe."""
    pull = pull_missed_events(uds.settings(), config.lookback_seconds, config.max_age_days)
    if pull.skipped:
        context.log.info(pull.skipped)
        return dg.MaterializeResult(metadata={"skipped": pull.skipped, "dagster/row_count": 0})
    context.log.info(
        f"Events API: {pull.written} new event(s), {pull.already_landed} already landed, since {pull.created_gte}"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": pull.written,
            "already_landed": pull.already_landed,
            "created_gte": pull.created_gte,
            "file": pull.file.name if pull.file else "none",
        }
    )


STRIPE_STAGING_TABLES = tables_of_step("stripe_staging")


@dg.multi_asset(
    name="landed_stripe_events",
    description="Stripe events from inbox/stripe, envelope typed and deduplicated by event id, landed as Parquet.",
    specs=table_specs(
        tables_of_step("landed_stripe_events"),
        group=c.GROUP_INGEST,
        kinds={"parquet", "duckdb"},
        deps=["stripe_events_api_pull"],
    ),
    check_specs=[conservation_spec("landed_stripe")],
)
def landed_stripe_events(context: dg.AssetExecutionContext, config: LandingConfig, uds: UdsSettingsResource):
    """Stripe events from inbox/stripe, envelope typed and deduplicated by event id, landed as Parquet."""
    stage = land_stripe(uds.settings(), config.files, config.max_files)
    summary = stage.summary
    new_files = len(summary.new_files)
    context.log.info(f"stripe: {new_files} new file(s), {summary.records_landed} events landed")
    for event in shared_folder_events("landed_stripe_events", summary):
        context.log_event(event)
    yield dg.MaterializeResult(
        asset_key="landed_stripe",
        metadata={
            # the table's total, as the catalog shows it; this run's batch is `records_landed`
            "dagster/row_count": lake_views.row_count(uds.settings().lake_dir, "landed_stripe"),
            "records_landed": summary.records_landed,
            "files_landed": new_files,
            "records_quarantined": summary.records_quarantined,
            "duplicates_skipped": summary.duplicates_skipped,
        },
    )
    yield conservation_check(stage, "landed_stripe")


@dg.multi_asset(
    name="stripe_staging",
    description="Typed Stripe tables (events, customers, charges, refunds, invoices, subscriptions, "
    "checkouts, consents), newest state per object, merged from the batches landed since the last run.",
    specs=table_specs(
        STRIPE_STAGING_TABLES, group=c.GROUP_INGEST, kinds={"parquet", "duckdb"}, deps=["landed_stripe"]
    ),
)
def stripe_staging(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Merge newly landed Stripe events into the typed Stripe tables, newest state per object."""
    settings = uds.settings()
    rebuild = context.run.tags.get(c.REBUILD_TAG) == "true"
    counts = build_stripe_staging(
        settings.lake_dir,
        external_id_fields=settings.external_id_fields,
        rebuild=rebuild,
        memory_limit=settings.duckdb_memory_limit,
        lock_dir=settings.locks_dir,
    )
    context.log.info(f"staging row counts: {counts}")
    context.log_event(dg.AssetMaterialization(asset_key=watermarks.TABLE))
    for table in STRIPE_STAGING_TABLES:
        yield file_table_result(settings.lake_dir, table, counts.get(table))
