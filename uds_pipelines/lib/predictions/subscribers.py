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
    fit: Fit | None = None
    frame: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def figures(self) -> dict:
        return {"subscriptions": self.subscriptions, "churned": self.churned,
                "live_subscribers": self.live_subscribers,
                "params": {k: round(v, 4) for k, v in self.fit.params.items()} if self.fit else None,
                "loglik": round(self.fit.loglik, 2) if self.fit else None}  # fmt: skip


def fit_subscribers(con, as_of: datetime) -> SubscriberModel:
    subs = con.execute(contracts.subscriptions_sql(as_of)).df()
    live = subs[subs["live"].astype(bool)]
    result = SubscriberModel(len(subs), int((~subs["live"]).sum()), live["customer_id"].nunique())
    if subs.empty:
        result.notes.append("no subscriptions: no retention model")
        return result
    if len(subs) < MIN_SUBSCRIPTIONS or result.churned < MIN_CHURNED:
        result.warnings.append(f"subscribers: no predicted columns: {len(subs)} subscriptions, {result.churned} "
                               f"ended (needs {MIN_SUBSCRIPTIONS} and {MIN_CHURNED})")  # fmt: skip
        return result
    fit = sbg.fit(subs["periods"].to_numpy(float), ~subs["live"].to_numpy(bool))
    result.fit = fit
    if not fit.ok:
        result.warnings.append(f"subscribers: no predicted columns: sBG {'; '.join(fit.problems)}")
        return result
    if live.empty:
        return result
    per = live.groupby(["customer_id", "currency"], sort=True).agg(
        tenure=("periods", "max"), mrr=("mrr", "sum")
    )
    per = per.reset_index()
    scores = contracts.score_subscribers(
        fit.values(), per["tenure"].to_numpy(float), per["mrr"].to_numpy(float)
    )
    result.frame = pd.DataFrame({
        "customer_id": per["customer_id"], "currency": per["currency"], "model": "sbg",
        "frequency": np.nan, "recency_weeks": np.nan, "t_weeks": np.nan, "monetary_value": np.nan,
        "tenure_months": per["tenure"].astype(float), "mrr": per["mrr"].astype(float),
        "p_alive": scores["p_alive"], "expected_purchases_90d": scores["expected_purchases_90d"],
        "expected_spend": per["mrr"].astype(float), "predicted_clv_12m": scores["predicted_clv_12m"],
        "churn_next_month": scores["churn_next_month"], "expected_residual_months": scores["expected_residual_months"],
        "churn_risk": traits.churn_risk(scores["churn_3m"]),
    })  # fmt: skip
    return result
