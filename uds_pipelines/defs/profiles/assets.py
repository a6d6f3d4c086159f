"""Consent ledger, customer profiles with computed traits, and daily KPIs."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.lake_specs import file_table_result, table_specs, tables_of_step
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.consent.stage import build_consent
from uds_pipelines.lib.masking import preview_markdown
from uds_pipelines.lib.profiles.kpis import bar_chart_markdown, kpi_markdown
from uds_pipelines.lib.profiles.stage import build_kpis, build_profiles


@dg.multi_asset(
    name="consent_ledger",
    description="Every consent statement from every source, and effective consent per person and purpose.",
    specs=table_specs(
        tables_of_step("consent_ledger"),
        group=c.GROUP_PROFILES,
        kinds={"duckdb", "parquet"},
        # requests_audit: the run's erasures come first, so no erased person's consent is rebuilt
        deps=["landed_consent", "stripe_consents", "identifiers", "identity_map", "requests_audit"],
    ),
)
def consent_ledger(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Every consent statement from every source, and effective consent per person and purpose."""
    settings = uds.settings()
    stage = build_consent(settings)
    ledger, effective = stage.ledger, stage.effective
    if ledger.unknown_purposes:
        context.log.warning(
            f"consent statements for unknown purposes kept, not used: {ledger.unknown_purposes}"
        )
    yield file_table_result(
        settings.lake_dir,
        "consent_ledger",
        ledger.rows,
        unknown_purposes=dg.MetadataValue.json(ledger.unknown_purposes),
        unusable_statements=dg.MetadataValue.json(ledger.unusable),
    )
    yield file_table_result(
        settings.lake_dir,
        "effective_consent",
        statements_matching_no_person=effective.unmatched_statements,
        granted_by_purpose=dg.MetadataValue.json(effective.granted_by_purpose),
    )


@dg.multi_asset(
    name="customer_profiles",
    description="One profile per person: survivorship of contact details, lifetime value, orders, NPS, consent, RFM.",
    specs=table_specs(
        ["customer_profiles"],
        group=c.GROUP_PROFILES,
        kinds={"duckdb", "parquet"},
        deps=[
            "identity_map",
            "person_records",
            "stripe_charges",
            "stripe_invoices",
            "stripe_refunds",
            "stripe_subscriptions",
            "landed_survey_responses",
            "landed_forms",
            "effective_consent",
        ],
    ),
    check_specs=[
        dg.AssetCheckSpec(
            c.CHECK_CUSTOMER_ID_UNIQUE,
            asset="customer_profiles",
            blocking=True,
            description="No customer id appears in two profiles.",
        ),
        dg.AssetCheckSpec(
            c.CHECK_PROFILE_HAS_IDENTIFIER,
            asset="customer_profiles",
            blocking=True,
            description="Every profile's customer id has at least one normalized identifier behind it.",
        ),
    ],
)
def customer_profiles(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """One profile per person: survivorship of contact details, lifetime value, orders, NPS, consent, RFM."""
    settings = uds.settings()
    stage = build_profiles(settings)
    yield file_table_result(
        settings.lake_dir,
        "customer_profiles",
        stage.rows,
        preview=dg.MetadataValue.md(preview_markdown(stage.preview)),
    )
    yield dg.AssetCheckResult(
        asset_key="customer_profiles",
        check_name=c.CHECK_CUSTOMER_ID_UNIQUE,
        passed=stage.duplicate_ids == 0,
        metadata={"duplicates": stage.duplicate_ids},
    )
    yield dg.AssetCheckResult(
        asset_key="customer_profiles",
        check_name=c.CHECK_PROFILE_HAS_IDENTIFIER,
        passed=stage.without_identifier == 0,
        metadata={"profiles_without_identifier": stage.without_identifier},
    )


@dg.asset(group_name=c.GROUP_PROFILES, kinds={"duckdb"}, owners=c.OWNERS, deps=["customer_profiles"])
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
