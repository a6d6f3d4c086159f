"""Consent ledger, customer profiles with computed traits, and daily KPIs."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.lake_specs import file_table_result, table_specs, tables_of_step
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.consent.stage import build_consent
from uds_pipelines.lib.masking import preview_markdown
from uds_pipelines.lib.predictions.orders import ORDER_FACT_TABLES
from uds_pipelines.lib.profiles.currencies import missing_rate_warning
from uds_pipelines.lib.profiles.kpis import bar_chart_markdown, kpi_markdown
from uds_pipelines.lib.profiles.stage import build_kpis, build_profiles


@dg.multi_asset(
    name="consent_ledger",
    description="Every consent statement from every source, and effective consent per person and purpose.",
    specs=table_specs(
        tables_of_step("consent_ledger"),
        group=c.GROUP_PROFILES,
        kinds={"duckdb", "parquet"},
        # events: their consent objects are statements too; requests_audit: the run's erasures
        # come first, so no erased person's consent is rebuilt
        deps=["landed_consent", "stripe_consents", "events", "identifiers", "identity_map", "requests_audit"],
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
        statements_from_events=stage.from_events,
    )
    yield file_table_result(
        settings.lake_dir,
        "event_consent_history",
        kept_this_run=stage.kept_from_expiring_events,
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
        tables_of_step("customer_profiles"),  # the profiles and the state an incremental run keeps
        group=c.GROUP_PROFILES,
        kinds={"duckdb", "parquet"},
        deps=[
            *ORDER_FACT_TABLES,
            "landed_survey_responses",
            "landed_forms",
            "effective_consent",
            "events",  # computed traits and last_seen_at read person_events
            "customer_predictions",
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
        dg.AssetCheckSpec(
            c.CHECK_FX_RATES_COVER_PROFILES,
            asset="customer_profiles",
            description="Every currency profiles were paid in has a rate to the reporting currency "
            "(UDS_FX_RATES), so lifetime_value_reporting is never NULL for lack of one.",
        ),
        dg.AssetCheckSpec(
            c.CHECK_TRAITS_VALID,
            asset="customer_profiles",
            description="Every computed trait in UDS_TRAITS_FILE is valid (invalid ones are skipped).",
        ),
    ],
)
def customer_profiles(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """One profile per person: survivorship of contact details, lifetime value, orders, NPS, consent, RFM."""
    settings = uds.settings()
    stage = build_profiles(settings, rebuild=context.run.tags.get(c.REBUILD_TAG) == "true")
    warning = missing_rate_warning(stage.without_fx_rate, stage.reporting_currency)
    if warning:
        context.log.warning(warning)
    for error in stage.trait_errors:
        context.log.error(f"computed trait {error.name!r} skipped: {error.message}")
    yield file_table_result(
        settings.lake_dir,
        "customer_profiles",
        stage.rows,
        preview=dg.MetadataValue.md(preview_markdown(stage.preview)),
        reporting_currency=stage.reporting_currency,
        fx_rates_used=dg.MetadataValue.json(stage.fx_rates_used),
        profiles_without_fx_rate=dg.MetadataValue.json(stage.without_fx_rate),
        **({"fx_warning": dg.MetadataValue.md(f"**Warning:** {warning}")} if warning else {}),
        computed_traits=dg.MetadataValue.json(stage.traits),
        **stage.scope,  # whole or only the changed customers, and how many were recomputed
    )
    yield file_table_result(settings.lake_dir, "profile_state", stage.rows, **stage.scope)
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
    yield dg.AssetCheckResult(
        asset_key="customer_profiles",
        check_name=c.CHECK_FX_RATES_COVER_PROFILES,
        passed=not stage.without_fx_rate,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"profiles_without_fx_rate": dg.MetadataValue.json(stage.without_fx_rate)}
        | ({"warning": warning} if warning else {}),
    )
    trait_errors = "\n".join(f"- `{e.name}`: {e.message}" for e in stage.trait_errors)
    yield dg.AssetCheckResult(
        asset_key="customer_profiles",
        check_name=c.CHECK_TRAITS_VALID,
        passed=not stage.trait_errors,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"errors": dg.MetadataValue.md(trait_errors or "none")},
    )


@dg.multi_asset(
    name="customer_kpis",
    description="Daily KPIs: customers, active customers, churn, conversion, NPS; lifetime value per "
    "currency and in the reporting currency.",
    specs=table_specs(
        ["customer_kpis"], group=c.GROUP_PROFILES, kinds={"duckdb", "parquet"}, deps=["customer_profiles"]
    ),
)
def customer_kpis(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Daily KPIs: customers, active customers, churn, conversion, NPS; LTV per currency and in the
    reporting currency (one row per KPI and currency in `customer_kpis`)."""
    settings = uds.settings()
    stage = build_kpis(settings)
    figures, curve = stage.figures, stage.new_buyers_by_month
    # Numeric entries are also plotted across materializations in the asset's Plots tab, one per
    # KPI and currency (`average_ltv_jpy`, `average_ltv_reporting_usd`).
    return file_table_result(
        settings.lake_dir,
        "customer_kpis",
        len(figures),
        kpis=dg.MetadataValue.md(kpi_markdown(figures)),
        new_buyers_by_month=dg.MetadataValue.md(bar_chart_markdown(curve, "new buyers")),
        reporting_currency=stage.reporting_currency,
        **{
            k.key: dg.MetadataValue.float(float(k.value)) if isinstance(k.value, float) else k.value
            for k in figures
            if k.value is not None
        },
    )
