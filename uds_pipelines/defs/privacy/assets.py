"""Data-subject requests: access reports, erasure that reaches every byte, suppression, retention.

Erasure and retention delete rows in tables other steps own. Their descriptions list those tables;
the ones upstream of them are also their deps (the tables rebuilt after erasure cannot be, or the
graph would have a cycle), and at runtime they report an `AssetObservation` on every table they
removed rows from, so each table's timeline shows who deleted what."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.lake_specs import (
    file_table_result,
    rows_removed_observations,
    table_spec,
    tables_of_step,
)
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import catalog, watermarks
from uds_pipelines.lib.privacy import apply_retention
from uds_pipelines.lib.privacy.stage import run_access_reports, run_privacy_requests

PRIVACY_TABLES = tables_of_step("privacy_requests")
# Erasure rewrites every lake table outside lake/privacy (rows go by the person's ids or any
# spelling of their identifiers): all tables with personal columns and the id-keyed ones.
ERASED_TABLES = [name for name, t in catalog.TABLES.items() if t.layer != "privacy"]
# Tables of the steps that run after erasure (from already-erased inputs): erasure rewrites their
# previous version too, but as deps they would close a cycle, so they are only observed.
LATER_STEPS = (
    "consent_ledger", "customer_profiles", "customer_kpis", "segment_membership", "audience_members",
)  # fmt: skip
REBUILT_AFTER_ERASURE = [name for step in LATER_STEPS for name in tables_of_step(step)]
ERASED_UPSTREAM = [name for name in ERASED_TABLES if name not in REBUILT_AFTER_ERASURE]
ERASURE_NOTE = (
    "The erasure step deletes every row of an erased person from "
    + ", ".join(ERASED_TABLES)
    + " (and from audience export files and warehouse tables)."
)

# The tables retention deletes old rows from: those the catalog gives an `expires_by` column
# (landed raw records after UDS_RETENTION_DAYS, quarantine after 90 days), and survey answers,
# which go with their responses.
RETENTION_TABLES = [name for name, t in catalog.TABLES.items() if t.expires_by] + ["landed_survey_answers"]
# It runs after the steps that keep durable state from those tables (it skips batches they have
# not merged anyway): their tables are deps.
RETENTION_DEPS = RETENTION_TABLES + [
    table
    for step in sorted({s for steps in watermarks.CONSUMERS.values() for s in steps})
    for table in tables_of_step(step)
]


@dg.multi_asset(
    name="privacy_requests",
    description="Erasures resolved to whole persons: erased everywhere, suppressed, audited, verified (durably). "
    + ERASURE_NOTE,
    specs=[
        # the audit records each erasure: it carries the tables erasure rewrites as lineage
        table_spec(
            "requests_audit",
            group=c.GROUP_PRIVACY,
            kinds={"duckdb", "parquet"},
            deps=ERASED_UPSTREAM,  # landed_privacy and identity_map among them: what erasure resolves from
            description=f"{catalog.table('requests_audit').description} {ERASURE_NOTE}",
        ),
        *(
            table_spec(
                name,
                group=c.GROUP_PRIVACY,
                kinds={"duckdb", "parquet"},
                deps=["landed_privacy", "identity_map"],
                description=f"{catalog.table(name).description} Written by the erasure step "
                "(requests_audit lists the tables it deletes from).",
            )
            for name in PRIVACY_TABLES
            if name != "requests_audit"
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            c.CHECK_ERASURE_VERIFIED,
            asset="requests_audit",
            blocking=True,
            description="After erasure, no erased person's identifier is found anywhere in the lake, exports "
            "or warehouse.",
        )
    ],
)
def privacy_requests(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Erasures resolved to whole persons: erased everywhere, suppressed, audited, verified (durably)."""
    settings = uds.settings()
    run_id = context.run.run_id
    stage = run_privacy_requests(settings, run_id)
    result, findings = stage.result, stage.findings
    statuses = result.status_counts()
    context.log.info(f"privacy requests: {stage.pending} pending, outcomes {statuses}")
    erasure = result.erasure
    if erasure is not None:
        for event in rows_removed_observations(erasure.removed, "privacy_requests (erasure)", run_id):
            context.log_event(event)
        for key, rows in (
            ("audience_exports", sum(erasure.export_rows_removed.values())),
            ("warehouse_tables", sum(erasure.warehouse_removed.values())),
        ):
            if rows:
                context.log_event(
                    dg.AssetObservation(
                        asset_key=key,
                        description=f"{rows} row(s) removed by privacy_requests (erasure)",
                        metadata={"rows_removed": rows, "removed_by": "privacy_requests (erasure)"},
                    )
                )
    yield file_table_result(
        settings.lake_dir,
        "requests_audit",
        requests_pending=stage.pending,
        outcomes=dg.MetadataValue.json(statuses),
        access_reports_written=len(result.access_files),
        access_requests_deferred=len(result.deferred),
        erasure=dg.MetadataValue.json(erasure.as_metadata() if erasure else {}),
    )
    yield file_table_result(settings.lake_dir, "suppression", identifiers_suppressed=result.suppressed_added)
    yield file_table_result(settings.lake_dir, "erasures_in_progress")
    yield dg.AssetCheckResult(
        asset_key="requests_audit",
        check_name=c.CHECK_ERASURE_VERIFIED,
        passed=not stage.leftovers,
        description=None if not stage.leftovers else "erased identifiers still found: see findings",
        metadata={
            "identifiers_checked": stage.identifiers_checked,
            "verification_seconds": round(stage.verify_seconds, 2),
            "findings": dg.MetadataValue.md(
                "\n".join(f"- {f.kind}: `{f.path}` {f.detail} ({f.count})" for f in findings) or "none"
            ),
        },
    )


@dg.asset(
    group_name=c.GROUP_PRIVACY,
    kinds={"duckdb", "json"},
    owners=c.OWNERS,
    deps=["requests_audit", "customer_profiles", "segment_membership"],
)
def access_reports(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Access requests answered once profiles and segments exist: one JSON report each, audited in requests_audit."""
    stage = run_access_reports(uds.settings(), context.run.run_id)
    statuses = stage.result.status_counts()
    context.log.info(f"access requests: {stage.pending} pending, outcomes {statuses}")
    if stage.pending:
        context.log_event(
            dg.AssetObservation(
                asset_key="requests_audit",
                description=f"{stage.pending} access request(s) audited by access_reports",
                metadata={"access_requests_audited": stage.pending, "audited_by": "access_reports"},
            )
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": stage.pending,
            "outcomes": dg.MetadataValue.json(statuses),
            "access_reports_written": len(stage.result.access_files),
        }
    )


@dg.asset(
    group_name=c.GROUP_PRIVACY,
    kinds={"duckdb", "parquet"},
    owners=c.OWNERS,
    deps=RETENTION_DEPS,
    description="Deletes rows past retention from tables the landing steps own: landed raw records older "
    "than UDS_RETENTION_DAYS and quarantine rows older than 90 days, from "
    + ", ".join(RETENTION_TABLES)
    + ".",
)
def retention(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    settings = uds.settings()
    removed = apply_retention(settings.lake_dir, settings.as_of(), settings.retention_days)
    context.log.info(f"retention removed {removed}")
    for event in rows_removed_observations(removed, "retention", context.run.run_id):
        context.log_event(event)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": int(sum(removed.values())), "removed": dg.MetadataValue.json(removed)}
    )
