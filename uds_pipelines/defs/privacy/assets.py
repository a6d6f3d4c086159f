"""Data-subject requests: access reports, erasure that reaches every byte, suppression, retention."""

import contextlib

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import connection
from uds_pipelines.lib.ingest import inbox
from uds_pipelines.lib.privacy import (
    apply_retention,
    handle_access_requests,
    handle_requests,
    pending_requests,
    resolve_pending,
    verify_erased,
)


@dg.asset(
    group_name=c.GROUP_PRIVACY,
    kinds={"duckdb", "parquet"},
    owners=c.OWNERS,
    deps=["landed_privacy_requests", "identity_map"],
    check_specs=[dg.AssetCheckSpec(c.CHECK_ERASURE_VERIFIED, asset="privacy_requests", blocking=True)],
)
def privacy_requests(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Erasures resolved to whole persons: erased everywhere, suppressed, audited, verified (durably)."""
    settings = uds.settings()
    lake_dir = settings.lake_dir
    con = connection.connect(settings.default_region, settings.duckdb_memory_limit)
    # No landing may run while people are erased and suppressed, or a batch landing in between
    # could bring a person back after the scan.
    locks = contextlib.ExitStack()
    for source in c.INBOX_SOURCES:
        locks.enter_context(inbox.landing_lock(settings.locks_dir, source))
    try:
        pending = pending_requests(con, lake_dir)
        subjects = resolve_pending(con, lake_dir, pending, settings.default_region)
        result = handle_requests(
            lake_dir,
            settings.exports_dir,
            subjects,
            key=settings.suppression_key(),
            warehouse_url=settings.warehouse_url,
            run_id=context.run.run_id,
            con=con,
            default_region=settings.default_region,
            defer_access=True,  # answered by access_reports, once profiles and segments exist
        )
        # The erased identifiers live in memory for this run only, for the verification scan.
        needles = {v for s in result.erased for _, v in s.identifiers}  # customer ids included
        findings = (
            verify_erased(
                settings.data_dir,
                settings.warehouse_url,
                needles,
                con=con,
                storage_root=settings.storage_root,
            )
            if needles
            else []
        )
    finally:
        con.close()
        locks.close()
    leftovers = [f for f in findings if f.kind == "leftover"]
    statuses = result.status_counts()
    context.log.info(f"privacy requests: {len(pending)} pending, outcomes {statuses}")
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(pending),
            "outcomes": dg.MetadataValue.json(statuses),
            "access_reports_written": len(result.access_files),
            "access_requests_deferred": len(result.deferred),
            "identifiers_suppressed": result.suppressed_added,
            "erasure": dg.MetadataValue.json(result.erasure.as_metadata() if result.erasure else {}),
        }
    )
    yield dg.AssetCheckResult(
        check_name=c.CHECK_ERASURE_VERIFIED,
        passed=not leftovers,
        description=None if not leftovers else "erased identifiers still found: see findings",
        metadata={
            "identifiers_checked": len(needles),
            "findings": dg.MetadataValue.md(
                "\n".join(f"- {f.kind}: `{f.path}` {f.detail} ({f.count})" for f in findings) or "none"
            ),
        },
    )


@dg.asset(
    group_name=c.GROUP_PRIVACY,
    kinds={"duckdb", "json"},
    owners=c.OWNERS,
    deps=["privacy_requests", "customer_profiles", "segment_membership"],
)
def access_reports(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Access requests answered once profiles and segments exist: one report each, then audited."""
    settings = uds.settings()
    con = connection.connect(settings.default_region, settings.duckdb_memory_limit)
    # The privacy landing lock serializes audit writers (privacy_requests holds it too) and keeps
    # requests from landing half way through.
    with inbox.landing_lock(settings.locks_dir, "privacy"):
        try:
            pending = pending_requests(con, settings.lake_dir, types=("access",))
            subjects = resolve_pending(con, settings.lake_dir, pending, settings.default_region)
            result = handle_access_requests(
                settings.lake_dir,
                settings.exports_dir,
                subjects,
                run_id=context.run.run_id,
                con=con,
                default_region=settings.default_region,
            )
        finally:
            con.close()
    statuses = result.status_counts()
    context.log.info(f"access requests: {len(pending)} pending, outcomes {statuses}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(pending),
            "outcomes": dg.MetadataValue.json(statuses),
            "access_reports_written": len(result.access_files),
        }
    )


@dg.asset(
    group_name=c.GROUP_PRIVACY, kinds={"duckdb", "parquet"}, owners=c.OWNERS, deps=["landed_stripe_events"]
)
def retention(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Landed raw records older than UDS_RETENTION_DAYS and quarantine older than 90 days, deleted."""
    settings = uds.settings()
    removed = apply_retention(settings.lake_dir, settings.as_of(), settings.retention_days)
    context.log.info(f"retention removed {removed}")
    return dg.MaterializeResult(
        metadata={"dagster/row_count": int(sum(removed.values())), "removed": dg.MetadataValue.json(removed)}
    )
