"""The profile and KPI stages as whole operations over the lake (what the assets run)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from uds_pipelines.lib import connection, lake
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.consent import wide_consent_sql
from uds_pipelines.lib.consent.stage import EFFECTIVE
from uds_pipelines.lib.lake import IDENTIFIERS, PERSON_RECORDS
from uds_pipelines.lib.profiles.build import profiles_sql
from uds_pipelines.lib.profiles.kpis import kpis, new_buyers_by_month
from uds_pipelines.lib.profiles.rfm import add_rfm_scores

EFFECTIVE_COLUMNS = {"customer_id": "VARCHAR", "purpose": "VARCHAR", "granted": "BOOLEAN"}


@dataclass
class ProfilesStage:
    rows: int
    duplicate_ids: int
    without_identifier: int
    preview: pd.DataFrame


def build_profiles(settings: Settings) -> ProfilesStage:
    """Write customer profiles with RFM scores; returns the figures the blocking checks judge."""
    lake_dir = settings.lake_dir
    con = connection.for_settings(settings)
    try:
        _require_current_person_records(con, lake_dir)
        effective = lake.read_table_sql(lake_dir / EFFECTIVE, EFFECTIVE_COLUMNS)
        base = profiles_sql(
            lake_dir,
            lake.parquet_relation(lake_dir / PERSON_RECORDS),
            lake.parquet_relation(lake_dir / lake.IDENTITY_MAP),
            wide_consent_sql(effective, settings.purposes),
            settings.purposes,
            settings.default_region,
        )
        con.execute(f"CREATE TEMP TABLE _profiles AS {base}")
        with_rfm = add_rfm_scores(con, "_profiles", settings.as_of())
        profiles = lake_dir / lake.PROFILES
        rows = lake.copy_query_to_parquet(con, f"SELECT * FROM {with_rfm} ORDER BY customer_id", profiles)
        duplicates, without_identifier = con.execute(
            f"""SELECT count(*) - count(DISTINCT customer_id),
                       count(*) FILTER (WHERE customer_id NOT IN (
                           SELECT m.customer_id FROM read_parquet('{lake_dir / lake.IDENTITY_MAP}') m
                           JOIN read_parquet('{lake_dir / IDENTIFIERS}') i USING (source, record_id)))
                FROM read_parquet('{profiles}')"""
        ).fetchall()[0]
        preview = con.execute(f"SELECT * FROM read_parquet('{profiles}') LIMIT 10").df()
    finally:
        con.close()
    return ProfilesStage(rows, int(duplicates), int(without_identifier), preview)


# Columns added to person records after the first release; an older file means identity_inputs
# has not run since the upgrade.
CURRENT_RECORD_COLUMNS = ("deleted", "created_at")


def _require_current_person_records(con, lake_dir) -> None:
    path = lake_dir / PERSON_RECORDS
    held = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}
    missing = [c for c in CURRENT_RECORD_COLUMNS if c not in held]
    if missing:
        raise RuntimeError(
            f"{PERSON_RECORDS} was written by an older version (no {', '.join(missing)}): "
            "materialize identity_inputs and identity_map (or run the full job) before customer_profiles"
        )


@dataclass
class KpiStage:
    figures: dict[str, float | int | None]
    new_buyers_by_month: list[tuple[str, int]]


def build_kpis(settings: Settings) -> KpiStage:
    """Customers, active customers, churn, conversion, LTV and NPS as of UDS_AS_OF, and the monthly curve."""
    con = lake.duckdb_connection()
    try:
        figures = kpis(con, settings.lake_dir, settings.as_of())
        curve = new_buyers_by_month(con, settings.lake_dir, settings.as_of())
    finally:
        con.close()
    return KpiStage(figures, curve)
