"""Consent ledger, customer profiles with computed traits, and daily KPIs."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.consent.stage import build_consent
from uds_pipelines.lib.masking import preview_markdown
from uds_pipelines.lib.profiles.kpis import bar_chart_markdown, kpi_markdown
from uds_pipelines.lib.profiles.stage import build_kpis, build_profiles


@dg.asset(
    group_name=c.GROUP_PROFILES,
    kinds={"duckdb", "parquet"},
    owners=c.OWNERS,
    deps=["identity_map", "privacy_requests"],
)
def consent_ledger(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Every consent statement from every source, and effective consent per person and purpose."""
    stage = build_consent(uds.settings())
    ledger, effective = stage.ledger, stage.effective
    if ledger.unknown_purposes:
        context.log.warning(
            f"consent statements for unknown purposes kept, not used: {ledger.unknown_purposes}"
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": ledger.rows,
            "unknown_purposes": dg.MetadataValue.json(ledger.unknown_purposes),
            "unusable_statements": dg.MetadataValue.json(ledger.unusable),
            "statements_matching_no_person": effective.unmatched_statements,
            "granted_by_purpose": dg.MetadataValue.json(effective.granted_by_purpose),
        }
    )


@dg.asset(
    group_name=c.GROUP_PROFILES,
    kinds={"duckdb", "parquet"},
    owners=c.OWNERS,
    deps=["identity_map", consent_ledger],
    check_specs=[
        dg.AssetCheckSpec(c.CHECK_CUSTOMER_ID_UNIQUE, asset="customer_profiles", blocking=True),
        dg.AssetCheckSpec(c.CHECK_PROFILE_HAS_IDENTIFIER, asset="customer_profiles", blocking=True),
    ],
)
def customer_profiles(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """One profile per person: survivorship of contact details, lifetime value, orders, NPS, consent, RFM."""
    stage = build_profiles(uds.settings())
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": stage.rows,
            "preview": dg.MetadataValue.md(preview_markdown(stage.preview)),
        }
    )
    yield dg.AssetCheckResult(
        check_name=c.CHECK_CUSTOMER_ID_UNIQUE,
        passed=stage.duplicate_ids == 0,
        metadata={"duplicates": stage.duplicate_ids},
    )
    yield dg.AssetCheckResult(
        check_name=c.CHECK_PROFILE_HAS_IDENTIFIER,
        passed=stage.without_identifier == 0,
        metadata={"profiles_without_identifier": stage.without_identifier},
    )


@dg.asset(group_name=c.GROUP_PROFILES, kinds={"duckdb"}, owners=c.OWNERS, deps=[customer_profiles])
def customer_kpis(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Daily KPIs: customers, active customers, churn, conversion, average and median LTV, NPS."""
    stage = build_kpis(uds.settings())
    figures, curve = stage.figures, stage.new_buyers_by_month
    # Numeric entries are also plotted across materializations in the asset's Plots tab.
    return dg.MaterializeResult(
        metadata={
            "kpis": dg.MetadataValue.md(kpi_markdown(figures)),
            "new_buyers_by_month": dg.MetadataValue.md(bar_chart_markdown(curve, "new buyers")),
        }
        | {
            k: dg.MetadataValue.float(float(v)) if isinstance(v, float) else v
            for k, v in figures.items()
            if v is not None
        }
    )
