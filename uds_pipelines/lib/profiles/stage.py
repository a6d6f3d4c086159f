"""The profile and KPI stages as whole operations over the lake (what the assets run)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from uds_pipelines.lib import catalog, connection, fx, lake, lake_views, locks
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.consent import wide_consent_sql
from uds_pipelines.lib.predictions.traits import with_predictions
from uds_pipelines.lib.profiles import incremental
from uds_pipelines.lib.profiles.build import base_steps, materialize, profile_sql
from uds_pipelines.lib.profiles.currencies import profiles_without_rate, rates_used
from uds_pipelines.lib.profiles.kpis import Kpi, kpis, new_buyers_by_month
from uds_pipelines.lib.profiles.rfm import add_rfm_scores
from uds_pipelines.lib.profiles.traits import TraitError, load_traits
from uds_pipelines.lib.profiles.traits_sql import compile_traits


@dataclass
class ProfilesStage:
    rows: int
    duplicate_ids: int
    without_identifier: int
    preview: pd.DataFrame
    reporting_currency: str = "USD"
    # upper-case currency -> profiles whose lifetime_value_reporting is NULL for lack of its rate
    without_fx_rate: dict[str, int] = field(default_factory=dict)
    fx_rates_used: dict[str, dict] = field(default_factory=dict)
    traits: list[str] = field(default_factory=list)  # the computed-trait columns written
    trait_errors: list[TraitError] = field(default_factory=list)  # traits reported and skipped
    scope: dict = field(default_factory=dict)  # incremental.Scope.figures(): whole or part, and how many


def build_profiles(settings: Settings, rebuild: bool = False) -> ProfilesStage:
    """Write customer profiles with RFM scores and predicted traits (`customer_predictions`);
    returns the figures the blocking checks judge. Only the customers whose records or Stripe
    objects changed get their base computed again (`incremental`); `rebuild` computes every one."""
    with locks.step_lock(settings.locks_dir, incremental.STEP):
        return _build_profiles(settings, rebuild)


def _build_profiles(settings: Settings, rebuild: bool) -> ProfilesStage:
    lake_dir = settings.lake_dir
    # the rates in force on the as-of day, so rerunning an old as-of gives the old figures
    rates = fx.load_rates(settings.fx_rates_file, settings.reporting_currency).on(settings.as_of().date())
    # a trait may not take the name of a profile column (consent columns follow the purposes)
    reserved = set(catalog.table("customer_profiles").columns) | {f"consent_{p}" for p in settings.purposes}
    traits, _funnels, trait_errors = load_traits(settings.traits_file, reserved)
    con = connection.for_settings(settings, connection.DERIVED_LAYERS, ("person_events",))  # traits read events
    try:
        table_rates = {currency: rate for currency, (rate, _day) in rates.items()}
        steps, final = base_steps(settings.default_region)
        salt = incremental.salt(steps, final)
        lake.release_memory(con)  # what consent and predictions left in the allocator: this is the peak
        scope = incremental.find_scope(con, lake_dir, salt, rebuild)
        if scope.whole:
            materialize(con, "_pf_base", steps, final)
            scope.customers = con.execute("SELECT count(*) FROM _pf_base").fetchone()[0]
        else:
            part = f"SELECT customer_id FROM {incremental.AFFECTED}"
            materialize(con, "_pf_fresh", *base_steps(settings.default_region, customers=part))
            incremental.merge(con, "_pf_fresh", "_pf_base")
        consent = wide_consent_sql("effective_consent", settings.purposes)
        con.execute(
            "CREATE TEMP TABLE _profiles AS "
            + profile_sql("_pf_base", consent, settings.purposes, table_rates, settings.reporting_currency,
                          compile_traits(traits, settings.as_of()))
        )
        with_rfm = add_rfm_scores(con, "_profiles", settings.as_of())
        rows = lake_views.write_query(
            con,
            lake_dir,
            "customer_profiles",
            f"SELECT * FROM {with_predictions(with_rfm)} ORDER BY customer_id",
        )
        duplicates, without_identifier = con.execute(
            """SELECT count(*) - count(DISTINCT customer_id),
                      count(*) FILTER (WHERE customer_id NOT IN (
                          SELECT m.customer_id FROM identity_map m SEMI JOIN identifiers i USING (source, record_id)))
               FROM customer_profiles"""
        ).fetchall()[0]
        # the people seen last (customer ids are random: the first rows written could be anyone's,
        # such as ten customers of one old test import)
        preview = con.execute(
            "SELECT * FROM customer_profiles ORDER BY last_seen_at DESC NULLS LAST, customer_id LIMIT 10"
        ).df()
        without_rate = profiles_without_rate(con, set(rates))
        # after the profiles: a crash before this recomputes the same customers next time
        incremental.save(con, lake_dir, "_pf_base", salt, scope)
    finally:
        con.close()
    return ProfilesStage(
        rows, int(duplicates), int(without_identifier), preview,
        settings.reporting_currency, without_rate, rates_used(rates), [t.name for t in traits], trait_errors,
        scope.figures(),
    )  # fmt: skip


@dataclass
class KpiStage:
    figures: list[Kpi]
    new_buyers_by_month: list[tuple[str, int]]
    reporting_currency: str = "USD"


def build_kpis(settings: Settings) -> KpiStage:
    """Customers, active customers, churn, conversion, NPS, and LTV per currency and in the
    reporting currency, as of UDS_AS_OF, written as `customer_kpis`; and the monthly curve."""
    as_of = settings.as_of()
    con = connection.for_settings(settings, connection.DERIVED_LAYERS)  # the profiles
    try:
        figures = kpis(con, settings.lake_dir, as_of, settings.reporting_currency)
        curve = new_buyers_by_month(con, settings.lake_dir, as_of)
    finally:
        con.close()
    frame = pd.DataFrame(
        {
            "as_of": pd.Series([as_of] * len(figures), dtype="datetime64[us, UTC]"),
            "kpi": [k.kpi for k in figures],
            "currency": pd.Series([k.currency for k in figures], dtype=object),
            "value": pd.Series([k.value for k in figures], dtype="float64"),
        }
    )
    lake_views.write_arrow(settings.lake_dir, "customer_kpis", frame)
    return KpiStage(figures, curve, settings.reporting_currency)
