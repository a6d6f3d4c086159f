"""Jobs and schedules. Sensors keep ingestion continuous; profiles and segments are rebuilt
daily at 02:00 UTC (erasures are handled in the same run before profiles, access reports after
segments); retention runs at 01:00 UTC; audiences are exported daily at 03:00 UTC, after them; the
Stripe Events API catch-up runs hourly. Each materializable asset has exactly one trigger (the
shared landing folders have none: the landing steps report them); `uds_full_run` (what `uds-run`
calls) runs everything on demand. Jobs select whole steps (every table asset of a multi-asset
step) by the step's assets definition."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.ingest.stripe import stripe_staging
from uds_pipelines.defs.privacy.assets import access_reports, privacy_requests, retention

uds_full_run = dg.define_asset_job(
    c.JOB_FULL_RUN,
    selection=dg.AssetSelection.all(),
    description="Everything in the inbox through the whole graph once (what uds-run runs).",
    tags={"uds/exclusive": "identity"},
)

daily_profiles_job = dg.define_asset_job(
    c.JOB_DAILY_PROFILES,
    selection=(
        dg.AssetSelection.assets(stripe_staging, privacy_requests, access_reports)
        | dg.AssetSelection.groups(c.GROUP_IDENTITY, c.GROUP_PROFILES, c.GROUP_SEGMENTS)
    ),
    description="Staging, identity resolution, erasures, profiles, KPIs, segments and access reports.",
    tags={"uds/exclusive": "identity"},
)

daily_audiences_job = dg.define_asset_job(
    c.JOB_DAILY_AUDIENCES,
    selection=dg.AssetSelection.groups(c.GROUP_AUDIENCES),
    description="Consent-safe audience exports and warehouse publishing.",
    tags={"uds/exclusive": "identity"},
)

retention_job = dg.define_asset_job(
    c.JOB_RETENTION,
    selection=dg.AssetSelection.assets(retention),
    description="Delete landed raw records past UDS_RETENTION_DAYS and old quarantine rows.",
    tags={"uds/exclusive": "identity"},
)

stripe_catchup_job = dg.define_asset_job(
    c.JOB_STRIPE_CATCHUP,
    selection=dg.AssetSelection.assets("stripe_events_api_pull"),
    description="Pull events the webhook receiver missed from the Stripe Events API.",
)

daily_profiles_schedule = dg.ScheduleDefinition(
    name="daily_profiles_schedule",
    job=daily_profiles_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

daily_audiences_schedule = dg.ScheduleDefinition(
    name="daily_audiences_schedule",
    job=daily_audiences_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

daily_retention_schedule = dg.ScheduleDefinition(
    name="daily_retention_schedule",
    job=retention_job,
    cron_schedule="0 1 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

hourly_stripe_catchup_schedule = dg.ScheduleDefinition(
    name="hourly_stripe_catchup_schedule",
    job=stripe_catchup_job,
    cron_schedule="15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
