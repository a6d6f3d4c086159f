"""Consent ledger, customer profiles with computed traits, and daily KPIs."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import lake
from uds_pipelines.lib.consent import build_consent_ledger, effective_consent, wide_consent_sql, write_ledger
from uds_pipelines.lib.identity.inputs import IDENTIFIERS, PERSON_RECORDS, resolution_connection
from uds_pipelines.lib.masking import preview_markdown
from uds_pipelines.lib.profiles.build import profiles_sql
from uds_pipelines.lib.profiles.consent_inputs import (
    EFFECTIVE,
    KEY_EXPRESSIONS,
    LEDGER,
    identifier_customers_sql,
    statement_sqls,
)
from uds_pipelines.lib.profiles.kpis import kpi_markdown, kpis
from uds_pipelines.lib.segments.rfm import add_rfm_scores


@dg.asset(
    group_name=c.GROUP_PROFILES,
    kinds={"duckdb", "parquet"},
    owners=c.OWNERS,
    deps=["identity_map", "privacy_requests"],
)
def consent_ledger(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Every consent statement from every source, and effective consent per person and purpose."""
    settings = uds.settings()
    con = resolution_connection(settings.default_region, settings.duckdb_memory_limit)
    try:
        ledger = build_consent_ledger(con, statement_sqls(settings.lake_dir), settings.purposes)
        write_ledger(con, ledger, settings.lake_dir / LEDGER)
        effective = effective_consent(
            con, ledger, identifier_customers_sql(settings.lake_dir), settings.purposes, KEY_EXPRESSIONS
        )
        lake.copy_query_to_parquet(con, f"SELECT * FROM {effective.table}", settings.lake_dir / EFFECTIVE)
    finally:
        con.close()
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
    settings = uds.settings()
    lake_dir = settings.lake_dir
    con = resolution_connection(settings.default_region, settings.duckdb_memory_limit)
    try:
        effective = lake.read_table_sql(
            lake_dir / EFFECTIVE, {"customer_id": "VARCHAR", "purpose": "VARCHAR", "granted": "BOOLEAN"}
        )
        base = profiles_sql(
            lake_dir,
            f"read_parquet('{lake_dir / PERSON_RECORDS}')",
            f"read_parquet('{lake_dir / lake.IDENTITY_MAP}')",
            wide_consent_sql(effective, settings.purposes),
            settings.purposes,
            settings.default_region,
        )
        con.execute(f"CREATE TEMP TABLE _profiles AS {base}")
        with_rfm = add_rfm_scores(con, "_profiles", settings.as_of())
        rows = lake.copy_query_to_parquet(
            con, f"SELECT * FROM {with_rfm} ORDER BY customer_id", lake_dir / lake.PROFILES
        )
        dupes, without_identifier = con.execute(
            f"SELECT count(*) - count(DISTINCT customer_id), "
            f"count(*) FILTER (WHERE customer_id NOT IN (SELECT m.customer_id FROM "
            f"read_parquet('{lake_dir / lake.IDENTITY_MAP}') m JOIN read_parquet('{lake_dir / IDENTIFIERS}') i "
            f"USING (source, record_id))) "
            f"FROM read_parquet('{lake_dir / lake.PROFILES}')"
        ).fetchone()
        preview = con.execute(f"SELECT * FROM read_parquet('{lake_dir / lake.PROFILES}') LIMIT 10").df()
    finally:
        con.close()
    yield dg.MaterializeResult(
        metadata={"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview_markdown(preview))}
    )
    yield dg.AssetCheckResult(
        check_name=c.CHECK_CUSTOMER_ID_UNIQUE, passed=dupes == 0, metadata={"duplicates": int(dupes)}
    )
    yield dg.AssetCheckResult(
        check_name=c.CHECK_PROFILE_HAS_IDENTIFIER,
        passed=without_identifier == 0,
        metadata={"profiles_without_identifier": int(without_identifier)},
    )


@dg.asset(group_name=c.GROUP_PROFILES, kinds={"duckdb"}, owners=c.OWNERS, deps=[customer_profiles])
def customer_kpis(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Daily KPIs: customers, active customers, churn, conversion, average and median LTV, NPS."""
    settings = uds.settings()
    con = lake.duckdb_connection()
    try:
        figures = kpis(con, settings.lake_dir, settings.as_of())
    finally:
        con.close()
    return dg.MaterializeResult(
        metadata={"kpis": dg.MetadataValue.md(kpi_markdown(figures))}
        | {
            k: dg.MetadataValue.float(float(v)) if isinstance(v, float) else v
            for k, v in figures.items()
            if v is not None
        }
    )
