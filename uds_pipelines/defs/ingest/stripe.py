"""Stripe assets: the Events API catch-up, landing of webhook/API files, and staging tables."""

import time

import dagster as dg
import pandas as pd

from uds_pipelines import constants as c
from uds_pipelines.defs.ingest.file_landing import LandingConfig, conservation_check, selected_paths
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import lake
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.ingest import inbox, stripe_api
from uds_pipelines.lib.ingest.stripe_files import land_stripe_files, release_held_batch
from uds_pipelines.lib.ingest.suppression_gate import gate_stripe_batch, suppression_active
from uds_pipelines.lib.staging.stripe import build_stripe_staging


class CatchUpConfig(dg.Config):
    lookback_seconds: int = 86400
    max_age_days: int = 30


@dg.asset(group_name=c.GROUP_INGEST, kinds={"stripe", "python"}, owners=c.OWNERS)
def stripe_events_api_pull(
    context: dg.AssetExecutionContext, config: CatchUpConfig, uds: UdsSettingsResource
):
    """Events missed by the webhook receiver, pulled from the Stripe Events API into inbox/stripe."""
    settings = uds.settings()
    reason = stripe_api.skip_reason(settings.stripe_api_key)
    if reason:
        context.log.info(reason)
        return dg.MaterializeResult(metadata={"skipped": reason, "dagster/row_count": 0})
    now = int(time.time())
    newest = stripe_api.newest_landed_created(settings.lake_dir)
    created_gte = stripe_api.catch_up_window(newest, now, config.lookback_seconds, config.max_age_days)
    known = stripe_api.landed_event_ids(settings.lake_dir, created_gte)
    events = stripe_api.fetch_events(settings.stripe_api_base, settings.stripe_api_key or "", created_gte)
    path, written, skipped = stripe_api.write_events_jsonl(events, settings.inbox_dir, known)
    context.log.info(f"Events API: {written} new event(s), {skipped} already landed, since {created_gte}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": written,
            "already_landed": skipped,
            "created_gte": created_gte,
            "file": path.name if path else "none",
        }
    )


def _land_stripe(config: LandingConfig, settings: Settings) -> tuple[list[dict], list]:
    """Land new Stripe files; returns the ledger rows written and the files that were new."""
    inbox.release_stale_claims(settings.inbox("stripe"))
    paths = selected_paths(settings.inbox("stripe"), config)
    known = inbox.landed_hashes(settings.lake_dir, "stripe")
    rows, fresh = [], []
    for waiting in paths:
        path = inbox.claim(waiting)
        if path is None:
            continue
        sha = lake.sha256_file(path)
        if sha in known:
            inbox.finish(path)
            continue
        known.add(sha)
        fresh.append((path, sha))
    # Screened before anyone can read it: an erased person's redelivered event never becomes visible.
    screen = suppression_active(settings.lake_dir)
    result = land_stripe_files([p for p, _ in fresh], settings.lake_dir, hold=screen) if fresh else None
    if result is not None:
        suppressed = {}
        if result.batch_path is not None and screen:
            suppressed = gate_stripe_batch(
                result.batch_path, settings.lake_dir, settings.suppression_key(), settings.default_region
            )
            release_held_batch(result.batch_path)
        stats = {s.file_name: s for s in result.files}
        for path, sha in fresh:
            s = stats.get(path.name)
            if s is None:
                continue
            rows.append(
                {
                    "file_name": path.name,
                    "sha256": sha,
                    "size_bytes": path.stat().st_size if path.exists() else 0,
                    "records_read": s.records_read,
                    "records_landed": s.records_landed - suppressed.get(path.name, 0),
                    "records_quarantined": s.records_quarantined + suppressed.get(path.name, 0),
                    "duplicates_skipped": s.duplicates_skipped,
                }
            )
        inbox.write_ledger_rows(settings.lake_dir, "stripe", rows, rows[0]["sha256"][:24] if rows else "none")
        for path, _ in fresh:
            inbox.finish(path)
    return rows, fresh


@dg.asset(
    group_name=c.GROUP_INGEST,
    kinds={"parquet", "duckdb"},
    owners=c.OWNERS,
    deps=[stripe_events_api_pull],
    check_specs=[dg.AssetCheckSpec(c.CHECK_CONSERVATION, asset="landed_stripe_events")],
)
def landed_stripe_events(context: dg.AssetExecutionContext, config: LandingConfig, uds: UdsSettingsResource):
    """Stripe events from inbox/stripe, envelope typed and deduplicated by event id, landed as Parquet."""
    settings = uds.settings()
    with inbox.landing_lock(settings.locks_dir, "stripe"):
        rows, fresh = _land_stripe(config, settings)
    frame = pd.DataFrame(rows)
    landed = int(frame["records_landed"].sum()) if len(frame) else 0
    context.log.info(f"stripe: {len(fresh)} new file(s), {landed} events landed")
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": landed,
            "files_landed": len(fresh),
            "records_quarantined": int(frame["records_quarantined"].sum()) if len(frame) else 0,
            "duplicates_skipped": int(frame["duplicates_skipped"].sum()) if len(frame) else 0,
        }
    )
    yield conservation_check(settings.lake_dir, "stripe", None, "landed_stripe_events")


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
