"""Fitting the retention model on every subscription and scoring the live subscribers (the
contractual side of the predictions stage; the model and its period rules are in contracts.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from uds_pipelines.lib.predictions import contracts, sbg, traits
from uds_pipelines.lib.predictions.fitting import Fit

MIN_SUBSCRIPTIONS = 20
MIN_CHURNED = 3


@dataclass
class SubscriberModel:
    subscriptions: int = 0
    churned: int = 0
    live_subscribers: int = 0
    fit: Fit | None = None  # over every subscription: the model of plans too small for their own
    plan_fits: dict[str, Fit] = field(default_factory=dict)  # plans with enough history
    frame: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def figures(self) -> dict:
        def params(fit: Fit) -> dict:
            return {k: round(v, 4) for k, v in fit.params.items()}

        return {"subscriptions": self.subscriptions, "churned": self.churned,
                "live_subscribers": self.live_subscribers,
                "params": params(self.fit) if self.fit else None,
                "loglik": round(self.fit.loglik, 2) if self.fit else None,
                "params_by_plan": {plan: params(fit) for plan, fit in sorted(self.plan_fits.items())}}  # fmt: skip


def enough(subs: pd.DataFrame) -> bool:
    """Enough subscriptions, and ended ones, to fit a retention model on."""
    return len(subs) >= MIN_SUBSCRIPTIONS and int((~subs["live"].astype(bool)).sum()) >= MIN_CHURNED


def _fit_plans(subs: pd.DataFrame, result: SubscriberModel) -> None:
    """A model per plan with enough subscriptions and churn of its own (plans retain differently:
    monthly and annual prices, say); a plan whose fit fails falls back to the pooled one, noted."""
    for plan, rows in subs.dropna(subset=["plan"]).groupby("plan", sort=True):
        if not enough(rows):
            continue
        fit = sbg.fit(rows["periods"].to_numpy(float), ~rows["live"].to_numpy(bool))
        if fit.ok:
            result.plan_fits[str(plan)] = fit
        else:
            result.notes.append(f"plan {plan}: the pooled model ({'; '.join(fit.problems)})")


def load_subscriptions(con, as_of: datetime) -> pd.DataFrame:
    """Every subscription with its periods, plan, MRR and whether it is live at `as_of`."""
    return con.execute(contracts.subscriptions_sql(as_of)).df()


def counts(subs: pd.DataFrame) -> dict[str, int]:
    """SubscriberModel's counts of `subs`: subscriptions, ended ones, live subscribers."""
    live = subs["live"].astype(bool)
    return {"subscriptions": len(subs), "churned": int((~live).sum()),
            "live_subscribers": int(subs.loc[live, "customer_id"].nunique())}  # fmt: skip


def fit_subscribers(subs: pd.DataFrame) -> SubscriberModel:
    """The pooled and per-plan retention models of `subs` (`load_subscriptions`), or the warning
    why there are none; `score_subscribers` scores the live subscribers with them."""
    result = SubscriberModel(**counts(subs))
    if subs.empty:
        result.notes.append("no subscriptions: no retention model")
        return result
    if not enough(subs):
        result.warnings.append(f"subscribers: no predicted columns: {len(subs)} subscriptions, {result.churned} "
                               f"ended (needs {MIN_SUBSCRIPTIONS} and {MIN_CHURNED})")  # fmt: skip
        return result
    fit = sbg.fit(subs["periods"].to_numpy(float), ~subs["live"].to_numpy(bool))
    result.fit = fit
    if not fit.ok:
        result.warnings.append(f"subscribers: no predicted columns: sBG {'; '.join(fit.problems)}")
        return result
    _fit_plans(subs, result)
    return result


def score_subscribers(result: SubscriberModel, subs: pd.DataFrame) -> None:
    """Set `result.frame`: the live subscribers of `subs` scored with `result`'s models (none
    without a usable pooled fit)."""
    fit = result.fit
    live = subs[subs["live"].astype(bool)]
    if fit is None or not fit.ok or live.empty:
        return
    # A subscriber with several live subscriptions is scored with the plan of the largest MRR.
    main_plan = live.sort_values(["mrr", "plan"], ascending=[False, True]).drop_duplicates(
        ["customer_id", "currency"]
    )
    per = live.groupby(["customer_id", "currency"], sort=True).agg(
        tenure=("periods", "max"), mrr=("mrr", "sum")
    )
    per = per.join(main_plan.set_index(["customer_id", "currency"])["plan"]).reset_index()
    # column operations, not a Python loop: one row per live subscriber
    per["model_plan"] = per["plan"].where(per["plan"].isin(list(result.plan_fits)))
    parts = []
    for plan, rows in per.groupby(per["model_plan"].fillna(""), sort=True):
        model = result.plan_fits.get(plan, fit)
        scores = contracts.score_subscribers(
            model.values(), rows["tenure"].to_numpy(float), rows["mrr"].to_numpy(float)
        )
        parts.append(pd.DataFrame({"index": rows.index, **scores}).set_index("index"))
    scores = pd.concat(parts).sort_index()
    result.frame = pd.DataFrame({
        "customer_id": per["customer_id"], "currency": per["currency"],
        "model": ("sbg:" + per["model_plan"].astype(object)).where(per["model_plan"].fillna("") != "", "sbg"),
        "frequency": np.nan, "recency_weeks": np.nan, "t_weeks": np.nan, "monetary_value": np.nan,
        "tenure_months": per["tenure"].astype(float), "mrr": per["mrr"].astype(float),
        "p_alive": scores["p_alive"], "expected_purchases_90d": scores["expected_purchases_90d"],
        "expected_spend": per["mrr"].astype(float), "predicted_clv_12m": scores["predicted_clv_12m"],
        "churn_next_month": scores["churn_next_month"], "expected_residual_months": scores["expected_residual_months"],
        "churn_risk": traits.churn_risk(scores["churn_3m"].to_numpy()),
    })  # fmt: skip
