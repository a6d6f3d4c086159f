"""Data-subject requests: access reports, erasure that reaches every byte, suppression, retention."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.privacy import apply_retention
from uds_pipelines.lib.privacy.stage import run_access_reports, run_privacy_requests


@dg.asset(
    group_name=c.GROUP_PRIVACY,
    kinds={"duckdb", "parquet"},
    owners=c.OWNERS,
    deps=["landed_privacy_requests", "identity_map"],
    check_specs=[dg.AssetCheckSpec(c.CHECK_ERASURE_VERIFIED, asset="privacy_requests", blocking=True)],
)
def privacy_requests(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Erasures resolved to whole persons: erased everywhere, suppressed, audited, verified (durably)."""
    stage = run_privacy_requests(uds.settings(), context.run.run_id)
    result, findings = stage.result, stage.findings
    statuses = result.status_counts()
    context.log.info(f"privacy requests: {stage.pending} pending, outcomes {statuses}")
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": stage.pending,
            "outcomes": dg.MetadataValue.json(statuses),
            "access_reports_written": len(result.access_files),
            "access_requests_deferred": len(result.deferred),
            "identifiers_suppressed": result.suppressed_added,
            "erasure": dg.MetadataValue.json(result.erasure.as_metadata() if result.erasure else {}),
        }
    )
    yield dg.AssetCheckResult(
        check_name=c.CHECK_ERASURE_VERIFIED,
        passed=not stage.leftovers,
        description=None if not stage.leftovers else "erased identifiers still found: see findings",
        metadata={
            "identifiers_checked": stage.identifiers_checked,
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
    stage = run_access_reports(uds.settings(), context.run.run_id)
    statuses = stage.result.status_counts()
    context.log.info(f"access requests: {stage.pending} pending, outcomes {statuses}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": stage.pending,
            "outcomes": dg.MetadataValue.json(statuses),
            "access_reports_written": len(stage.result.access_files),
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
