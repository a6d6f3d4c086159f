"""Fitting and scoring one currency's buyers: BG/NBD and Pareto/NBD (the better likelihood wins;
both have four parameters), Gamma-Gamma on the repeat buyers, the holdout check; guards that
leave the currency unscored with a warning instead of numbers a bad fit would give."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from uds_pipelines.lib.predictions import bgnbd, gamma_gamma, holdout, pareto_nbd
from uds_pipelines.lib.predictions.fitting import Fit, sample_rows
from uds_pipelines.lib.predictions.score import PURCHASE_MODELS, score_buyers

MIN_CUSTOMERS = 50
MIN_REPEAT_BUYERS = 20
# |correlation| of purchase count and mean spend above which Gamma-Gamma's independence
# assumption is doubtful (reported, not enforced)
SPEND_CORRELATION_NOTE = 0.3


@dataclass
class CurrencyModels:
    currency: str
    customers: int
    repeat_buyers: int
    purchase: Fit | None = None
    rejected: list[Fit] = field(default_factory=list)
    spend: Fit | None = None
    spend_correlation: float | None = None
    holdout: holdout.Holdout | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def scored(self) -> bool:
        return self.purchase is not None

    def figures(self) -> dict:
        return {
            "customers": self.customers, "repeat_buyers": self.repeat_buyers,
            "model": self.purchase.model if self.purchase else None,
            "params": {k: round(v, 4) for k, v in self.purchase.params.items()} if self.purchase else None,
            "loglik": round(self.purchase.loglik, 2) if self.purchase else None,
            "rejected": {f.model: {"loglik": round(f.loglik, 2), "problems": f.problems} for f in self.rejected},
            "spend_params": {k: round(v, 4) for k, v in self.spend.params.items()} if self.spend else None,
            "spend_frequency_correlation": self.spend_correlation,
            "holdout": self.holdout.figures() if self.holdout else None,
        }  # fmt: skip


def fit_purchases(summary: pd.DataFrame) -> tuple[Fit | None, list[Fit], list[str]]:
    """(best acceptable fit, the others, problems) for one currency's summary; None when neither
    model converged to sane parameters or there are too few repeat buyers."""
    repeat = int((summary["frequency"] > 0).sum())
    if len(summary) < MIN_CUSTOMERS or repeat < MIN_REPEAT_BUYERS:
        return None, [], [f"too few buyers to fit: {len(summary)} customers, {repeat} repeat buyers "
                          f"(needs {MIN_CUSTOMERS} and {MIN_REPEAT_BUYERS})"]  # fmt: skip
    x, t_x, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    chosen = sample_rows(len(x))
    if chosen is None:
        fits = [bgnbd.fit(x, t_x, T), pareto_nbd.fit(x, t_x, T)]
    else:
        # large: the models compete on a fixed sample; only the winner is fitted on everyone, from
        # its optimum on the sample (Pareto/NBD's likelihood costs far more than BG/NBD's)
        trial = [
            bgnbd.fit(x[chosen], t_x[chosen], T[chosen]),
            pareto_nbd.fit(x[chosen], t_x[chosen], T[chosen]),
        ]
        winner = max((f for f in trial if f.ok), key=lambda f: f.loglik, default=None)
        if winner is None:
            return None, trial, [f"{f.model}: {'; '.join(f.problems)}" for f in trial]
        full = PURCHASE_MODELS[winner.model].fit(x, t_x, T, starts=(winner.values(),))
        rest = [f for f in trial if f is not winner]
        return (
            (full, rest, [])
            if full.ok
            else (None, [full, *rest], [f"{full.model}: {'; '.join(full.problems)}"])
        )
    good = sorted((f for f in fits if f.ok), key=lambda f: -f.loglik)
    if not good:
        return None, fits, [f"{f.model}: {'; '.join(f.problems)}" for f in fits]
    return good[0], [f for f in fits if f is not good[0]], []


def fit_currency(currency: str, summary: pd.DataFrame) -> CurrencyModels:
    """Fit the purchase and spend models on one currency's full summary."""
    repeat = summary[summary["frequency"] > 0]
    models = CurrencyModels(currency, len(summary), len(repeat))
    models.purchase, models.rejected, problems = fit_purchases(summary)
    if models.purchase is None:
        models.warnings.append(f"{currency.upper()}: no predicted columns: {'; '.join(problems)}")
        return models
    spenders = repeat[repeat["monetary_value"] > 0]
    if len(spenders) >= MIN_REPEAT_BUYERS:
        spend = gamma_gamma.fit(
            spenders["frequency"].to_numpy(float), spenders["monetary_value"].to_numpy(float)
        )
        models.spend_correlation = round(
            float(np.corrcoef(spenders["frequency"], spenders["monetary_value"])[0, 1]), 3
        )
        if abs(models.spend_correlation) > SPEND_CORRELATION_NOTE:
            models.notes.append(f"{currency.upper()}: spend and purchase count correlate "
                                f"({models.spend_correlation}); Gamma-Gamma assumes they do not")  # fmt: skip
        if spend.ok:
            models.spend = spend
        else:
            models.warnings.append(
                f"{currency.upper()}: no predicted_clv_12m: Gamma-Gamma {'; '.join(spend.problems)}"
            )
    else:
        models.warnings.append(f"{currency.upper()}: no predicted_clv_12m: {len(spenders)} repeat buyers with "
                               f"spend (needs {MIN_REPEAT_BUYERS})")  # fmt: skip
    return models


def score_currency(models: CurrencyModels, summary: pd.DataFrame) -> dict[str, np.ndarray]:
    assert models.purchase is not None
    cols = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary_value"))
    x, t_x, T, m = cols
    spend = models.spend.values() if models.spend else None
    return score_buyers(models.purchase.model, models.purchase.values(), spend, x, t_x, T, m)


def check_holdout(models: CurrencyModels, calibration: pd.DataFrame, actual: pd.Series,
                  calibration_end: str, weeks: float) -> None:  # fmt: skip
    """Refit the chosen model on the calibration summary and compare its holdout predictions with
    `actual` (purchase days after the split, aligned with `calibration`)."""
    assert models.purchase is not None
    model = models.purchase.model
    x, t_x, T = (calibration[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    if (x > 0).sum() < MIN_REPEAT_BUYERS or len(x) < MIN_CUSTOMERS:
        models.notes.append(
            f"{models.currency.upper()}: no holdout check: too few buyers before {calibration_end}"
        )
        return
    fit = PURCHASE_MODELS[model].fit(x, t_x, T)
    if not fit.ok:
        models.warnings.append(f"{models.currency.upper()}: holdout fit failed: {'; '.join(fit.problems)}")
        return
    with np.errstate(all="ignore"):
        predicted = PURCHASE_MODELS[model].expected_purchases(fit.values(), weeks, x, t_x, T)
    models.holdout = holdout.evaluate(model, calibration_end, weeks, x, actual.to_numpy(float), predicted)
    if (warning := models.holdout.warning()) is not None:
        models.warnings.append(f"{models.currency.upper()}: {warning}")
