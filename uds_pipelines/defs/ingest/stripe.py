"""Stripe assets: the Events API catch-up, landing of webhook/API files, and staging tables."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.ingest.file_landing import LandingConfig, conservation_check
from uds_pipelines.defs.resources import UdsSettingsResource
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


@dg.asset(
    group_name=c.GROUP_INGEST,
    kinds={"parquet", "duckdb"},
    owners=c.OWNERS,
    deps=[stripe_events_api_pull],
    check_specs=[dg.AssetCheckSpec(c.CHECK_CONSERVATION, asset="landed_stripe_events")],
)
def landed_stripe_events(context: dg.AssetExecutionContext, config: LandingConfig, uds: UdsSettingsResource):
    """Stripe events from inbox/stripe, envelope typed and deduplicated by event id, landed as Parquet."""
    stage = land_stripe(uds.settings(), config.files, config.max_files)
    summary = stage.summary
    new_files = len(summary.new_files)
    context.log.info(f"stripe: {new_files} new file(s), {summary.records_landed} events landed")
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": summary.records_landed,
            "files_landed": new_files,
            "records_quarantined": summary.records_quarantined,
            "duplicates_skipped": summary.duplicates_skipped,
        }
    )
    yield conservation_check(stage, "landed_stripe_events")


@dg.asset(
    group_name=c.GROUP_INGEST, kinds={"parquet", "duckdb"}, owners=c.OWNERS, deps=[landed_stripe_events]
)
def stripe_staging(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Typed Stripe tables (customers, charges, refunds, invoices, subscriptions, checkouts), newest state per object."""
    settings = uds.settings()
    counts = build_stripe_staging(settings.lake_dir, external_id_fields=settings.external_id_fields)
    context.log.info(f"staging row counts: {counts}")
    return dg.MaterializeResult(
        metadata={"dagster/row_count": int(counts.get("stripe_events", 0))}
        | {k: int(v) for k, v in counts.items()}
    )
