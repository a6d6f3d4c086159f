"""The predictions stage as a whole operation over the lake (what the `customer_predictions` asset
runs): summaries in DuckDB, fits and scores in numpy, one Parquet table of per-customer figures."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from uds_pipelines.lib import connection, fx, lake_views, locks
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.predictions import holdout, model_store, summary, traits
from uds_pipelines.lib.predictions.buyers import CurrencyModels, check_holdout, fit_currency, score_currency
from uds_pipelines.lib.predictions.subscribers import (
    SubscriberModel,
    counts,
    fit_subscribers,
    load_subscriptions,
    score_subscribers,
)


@dataclass
class PredictionsStage:
    rows: int
    currencies: list[CurrencyModels]
    subscribers: SubscriberModel
    model_version: str | None
    preview: pd.DataFrame
    refit_reason: str | None  # why the models were fitted this run; None: the stored ones scored it
    fitted_as_of: datetime
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _holdout_split(as_of: datetime, first_day) -> tuple[datetime, float] | None:
    """(calibration end, holdout weeks), or None when the history is too short for one."""
    end_day = as_of.astimezone(UTC).date()
    days = holdout.holdout_days((end_day - first_day).days)
    if days < 28:
        return None
    split_day = end_day - timedelta(days=days)
    return datetime.combine(split_day, time.max, tzinfo=UTC), days / 7


def _buyer_summary(con, as_of: datetime) -> pd.DataFrame:
    """Every buyer's summary per currency (`summary.SUMMARY_COLUMNS`) as of `as_of`; leaves the
    purchases in the temp table `_purchases` for the holdout check."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _purchases AS {summary.purchases_sql()}")
    return con.execute(summary.summary_sql("SELECT * FROM _purchases", as_of)).df()


def _fit_buyers(con, full: pd.DataFrame, as_of: datetime) -> list[CurrencyModels]:
    """Fit each currency's purchase and spend models on `full` and check them on a holdout."""
    first = con.execute("SELECT min(ordered_at AT TIME ZONE 'UTC')::DATE FROM _purchases").fetchone()[0]
    split = _holdout_split(as_of, first) if first is not None else None
    calibration = None
    if split is not None:
        calibration = con.execute(summary.summary_sql("SELECT * FROM _purchases", split[0])).df()
        actual = con.execute(summary.holdout_counts_sql("SELECT * FROM _purchases", split[0], as_of)).df()
        calibration = calibration.merge(actual, on=["customer_id", "currency"], how="left").fillna(
            {"holdout_purchases": 0.0}
        )
    # rows in content order, not by customer id: ids are random per clean run, and the fit's sample
    # (above fitting.SAMPLE buyers) must pick the same summaries whatever the ids
    full = full.sort_values(
        ["currency", "frequency", "recency", "T", "monetary_value", "customer_id"], ignore_index=True
    )
    models = []
    for currency, group in full.groupby("currency", sort=True):
        fitted = fit_currency(currency, group)
        models.append(fitted)
        if not fitted.scored:
            continue
        if split is None:
            fitted.notes.append(f"{currency.upper()}: no holdout check: history shorter than 12 weeks")
        else:
            part = calibration[calibration["currency"] == currency]
            check_holdout(fitted, part, part["holdout_purchases"], split[0].date().isoformat(), split[1])
    return models


def _buyer_rows(models: list[CurrencyModels], full: pd.DataFrame) -> list[pd.DataFrame]:
    """The predictions of every buyer of a scored currency."""
    frames = []
    for fitted in models:
        if not fitted.scored:
            continue
        group = full[full["currency"] == fitted.currency]
        scores = score_currency(fitted, group)
        frames.append(pd.DataFrame({
            "customer_id": group["customer_id"].to_numpy(), "currency": fitted.currency, "model": fitted.purchase.model,
            "frequency": group["frequency"].to_numpy(float), "recency_weeks": group["recency"].to_numpy(float),
            "t_weeks": group["T"].to_numpy(float), "monetary_value": group["monetary_value"].to_numpy(float),
            "tenure_months": np.nan, "mrr": np.nan, **{k: scores[k] for k in
            ("p_alive", "expected_purchases_90d", "expected_spend", "predicted_clv_12m")},
            "churn_next_month": np.nan, "expected_residual_months": np.nan,
            "churn_risk": traits.churn_risk(1.0 - scores["p_alive"]),
        }))  # fmt: skip
    return frames


def _models(con, settings: Settings, as_of: datetime, full: pd.DataFrame, subs: pd.DataFrame, rebuild: bool):
    """(buyer models, subscriber model, refit reason or None, the as-of they were fitted at): the
    stored models when they still hold (`model_store`), else new fits, stored for the next runs."""
    units = model_store.population(full, subs)
    stored = None if rebuild else model_store.load(con, settings.lake_dir, units)
    reason = model_store.refit_reason(stored, as_of, units, settings.predictions_refit_days, rebuild)
    if reason is None:
        assert isinstance(stored, model_store.StoredModels)
        return stored.currencies, replace(stored.subscribers, **counts(subs)), None, stored.fitted_as_of
    currencies, subscribers = _fit_buyers(con, full, as_of), fit_subscribers(subs)
    backfill = isinstance(stored, model_store.StoredModels) and as_of < stored.fitted_as_of
    if not backfill:  # a backfill's fit is for its own day: the runs after it keep the newer models
        # stored before the predictions are written: a crash between the two makes the next run
        # score with these same fits
        model_store.save(con, settings.lake_dir, as_of, units, currencies, subscribers)
    return currencies, subscribers, reason, as_of


def build_predictions(settings: Settings, rebuild: bool = False) -> PredictionsStage:
    """Score every customer as of UDS_AS_OF with the stored models, fitted and checked again
    when `model_store` says so (or `rebuild`); write `customer_predictions`; return the figures."""
    # The optimizers call BLAS on vectors of a few parameters, thousands of times: OpenBLAS's
    # threads then cost more than they give, and spin on the cores a concurrent step needs
    # (the 1M stage under one concurrent step: 17.3 s, 15.9 CPU-s; on one thread 7.7 s, 5.8 CPU-s).
    # one run at a time: the stored models and the predictions scored with them are written together
    with locks.step_lock(settings.locks_dir, "customer_predictions"), threadpool_limits(limits=1, user_api="blas"):
        return _build_predictions(settings, rebuild)


def _build_predictions(settings: Settings, rebuild: bool) -> PredictionsStage:
    as_of = settings.as_of()
    rates = fx.load_rates(settings.fx_rates_file, settings.reporting_currency).on(as_of.date())
    con = connection.for_settings(settings, connection.DERIVED_LAYERS)  # staged Stripe objects, the map
    try:
        full, subs = _buyer_summary(con, as_of), load_subscriptions(con, as_of)
        currencies, subscribers, refit, fitted_as_of = _models(con, settings, as_of, full, subs, rebuild)
        frames = _buyer_rows(currencies, full)
        score_subscribers(subscribers, subs)
        if subscribers.frame is not None:
            frames.append(subscribers.frame)
        parts = {f"{m.purchase.model}+gamma_gamma:{m.currency}" if m.spend else f"{m.purchase.model}:{m.currency}":
                 m.purchase.params | (m.spend.params if m.spend else {}) for m in currencies if m.scored}  # fmt: skip
        if subscribers.fit is not None and subscribers.frame is not None:
            parts["sbg"] = subscribers.fit.params
            parts |= {f"sbg:{plan}": fit.params for plan, fit in subscribers.plan_fits.items()}
        version = traits.model_version(parts) if parts else None
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_COLUMNS)
        frame["model_version"] = version
        frame["predicted_clv_12m_reporting"] = frame["predicted_clv_12m"] * frame["currency"].map(
            {c: rate for c, (rate, _day) in rates.items()}
        ).astype(float)
        frame = frame[_COLUMNS].sort_values(["customer_id", "currency"], ignore_index=True)
        lake_views.write_arrow(settings.lake_dir, "customer_predictions", frame, con=con)
        preview = con.execute("SELECT * FROM customer_predictions LIMIT 10").df()
    finally:
        con.close()
    warnings = [w for m in currencies for w in m.warnings] + subscribers.warnings
    if not currencies:
        warnings.append("no predicted columns for one-off buyers: no purchases by non-subscribers yet")
    notes = [n for m in currencies for n in m.notes] + subscribers.notes
    return PredictionsStage(len(frame), currencies, subscribers, version, preview, refit, fitted_as_of, warnings, notes)


_COLUMNS = [
    "customer_id", "currency", "model", "frequency", "recency_weeks", "t_weeks", "monetary_value",
    "tenure_months", "mrr", "p_alive", "expected_purchases_90d", "expected_spend", "predicted_clv_12m",
    "predicted_clv_12m_reporting", "churn_next_month", "expected_residual_months", "churn_risk", "model_version",
]  # fmt: skip
