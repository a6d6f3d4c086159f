"""The fitted models kept between runs, and when to fit them again.

Fitting every model on every customer is most of the predictions stage (at 10M events, 4 of its
8 s), while a day's new purchases barely move the parameters. So a run scores every customer with
the stored models and fits again only when:

- there are no stored models, or they cannot be read;
- the models' code or inputs changed (`salt`);
- a rebuild asked for it (`uds-run --rebuild`);
- the as-of is before the fit's (a model must not have seen the days it predicts);
- the fit is `refit_days` old or more (`UDS_PREDICTIONS_REFIT_DAYS`; 0 fits on every run);
- the population moved: a currency's buyers or repeat buyers, or the subscriptions or ended ones
  (in all or in a plan with a model of its own), changed by more than REFIT_DRIFT since the fit;
  one of them reached or fell below the minimum to fit; a currency or such a plan appeared or went.

A run whose as-of is before the fit's (a backfill) fits for itself and keeps the stored models for
the runs after it.

The models are one row of `prediction_models`: the as-of they were fitted at, the counts they were
fitted on, and every fit with its checks and messages, so that a scored run reports what the fit
run reported. It holds no personal data (parameters and counts).
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from uds_pipelines.lib import lake_views
from uds_pipelines.lib.predictions import (
    bgnbd,
    buyers,
    contracts,
    fitting,
    gamma_gamma,
    holdout,
    orders,
    pareto_nbd,
    sbg,
    score,
    subscribers,
    summary,
    traits,
)
from uds_pipelines.lib.predictions.buyers import CurrencyModels
from uds_pipelines.lib.predictions.fitting import Fit
from uds_pipelines.lib.predictions.subscribers import SubscriberModel

TABLE = "prediction_models"
REFIT_DRIFT = 0.10
SUBSCRIBERS = "subscribers"


# The code a stored fit depends on: a change to any of these modules fits again.
_FIT_CODE = (bgnbd, pareto_nbd, gamma_gamma, sbg, score, fitting, buyers, subscribers, summary, contracts, orders,
             holdout, sys.modules[__name__])  # fmt: skip


def salt() -> str:
    """A hash of what the fits depend on besides the data: the purchase and subscription SQL, the
    model generation and the source of the modules that summarize, fit, check and score."""
    parts = [traits.MODEL_GENERATION, summary.purchases_sql(), contracts.subscriptions_sql(datetime(2000, 1, 1, tzinfo=UTC))]
    digest = hashlib.sha256(json.dumps(parts).encode())
    for module in _FIT_CODE:
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def population(full: pd.DataFrame, subs: pd.DataFrame) -> dict[str, list[int]]:
    """What there is to fit, each as [count, second count, 1 if enough to fit else 0]: per
    currency (buyers, repeat buyers); subscriptions (all, ended); each plan with enough history
    for a model of its own."""
    units = {}
    for currency, group in full.groupby("currency", sort=True):
        n, repeat = len(group), int((group["frequency"] > 0).sum())
        units[f"buyers:{currency}"] = [n, repeat, int(n >= buyers.MIN_CUSTOMERS and repeat >= buyers.MIN_REPEAT_BUYERS)]
    counted = subscribers.counts(subs)
    units[SUBSCRIBERS] = [counted["subscriptions"], counted["churned"], int(subscribers.enough(subs))]
    for plan, rows in subs.dropna(subset=["plan"]).groupby("plan", sort=True):
        if subscribers.enough(rows):
            units[f"plan:{plan}"] = [len(rows), subscribers.counts(rows)["churned"], 1]
    return units


def _labels(unit: str) -> tuple[str, str]:
    kind, _, name = unit.partition(":")
    if kind == "buyers":
        return f"{name.upper()} buyers", f"{name.upper()} repeat buyers"
    prefix = f"plan {name} " if kind == "plan" else ""
    return f"{prefix}subscriptions", f"{prefix}ended subscriptions"


@dataclass
class StoredModels:
    fitted_as_of: datetime
    salt: str
    population: dict[str, list[int]]
    currencies: list[CurrencyModels]
    subscribers: SubscriberModel  # without counts: `subscribers.counts` of the run's subscriptions


def refit_reason(
    stored: StoredModels | str | None, as_of: datetime, units: dict[str, list[int]], refit_days: int, rebuild: bool
) -> str | None:
    """Why the models must be fitted again (None: score with the stored ones). `stored` is the
    loaded models, a reason they could not be read, or None when there are none."""
    if rebuild:
        return "rebuild asked for"
    if stored is None:
        return "no stored models"
    if isinstance(stored, str):
        return stored
    if stored.salt != salt():
        return "the models' code or inputs changed"
    if as_of < stored.fitted_as_of:
        return f"the as-of is before the fit's ({stored.fitted_as_of.date()})"
    if refit_days == 0:
        return "UDS_PREDICTIONS_REFIT_DAYS=0: fitted on every run"
    # calendar days: a run that starts a few seconds earlier than last week's still refits
    days = (as_of.astimezone(UTC).date() - stored.fitted_as_of.astimezone(UTC).date()).days
    if days >= refit_days:
        return f"fitted {days} days before the as-of (refit every {refit_days} days)"
    if set(units) != set(stored.population):
        changed = sorted(set(units) ^ set(stored.population))
        return f"what there is to fit changed: {', '.join(changed)}"
    for unit, now in sorted(units.items()):
        then = stored.population[unit]
        labels = _labels(unit)
        if then[2] != now[2]:
            return f"{labels[0]}: {then[0]:,} -> {now[0]:,}, now {'enough' if now[2] else 'too few'} to fit"
        if not now[2]:
            continue  # too few then and now: nothing was fitted, nothing to fit
        for label, a, b in zip(labels, then[:2], now[:2], strict=True):
            if abs(b - a) > REFIT_DRIFT * max(a, 1):
                return f"{label}: {a:,} -> {b:,} (more than {REFIT_DRIFT:.0%} since the fit)"
    return None


def _fit(value: dict | None) -> Fit | None:
    return None if value is None else Fit(**value)


def _holdout(value: dict | None) -> holdout.Holdout | None:
    if value is None:
        return None
    table = pd.DataFrame(value.pop("table"))
    table.index.name = "repeat purchases (calibration)"
    return holdout.Holdout(**value, table=table)


def _holdout_dict(value: holdout.Holdout | None) -> dict | None:
    if value is None:
        return None
    fields = {k: v for k, v in vars(value).items() if k != "table"}
    return fields | {"table": value.table.to_dict()}


def _currency_dict(models: CurrencyModels) -> dict:
    return {
        "currency": models.currency, "purchase": asdict(models.purchase) if models.purchase else None,
        "rejected": [asdict(f) for f in models.rejected], "spend": asdict(models.spend) if models.spend else None,
        "spend_correlation": models.spend_correlation, "holdout": _holdout_dict(models.holdout),
        "warnings": models.warnings, "notes": models.notes,
    }  # fmt: skip


def _currency(value: dict, counts: list[int]) -> CurrencyModels:
    return CurrencyModels(
        value["currency"], counts[0], counts[1], _fit(value["purchase"]), [Fit(**f) for f in value["rejected"]],
        _fit(value["spend"]), value["spend_correlation"], _holdout(value["holdout"]), value["warnings"], value["notes"],
    )  # fmt: skip


def save(con, lake_dir, as_of: datetime, units: dict[str, list[int]], currencies, subs: SubscriberModel) -> None:
    """Write the fitted models as the one row of `prediction_models`."""
    models = {
        "currencies": [_currency_dict(m) for m in currencies],
        "subscribers": {
            "fit": asdict(subs.fit) if subs.fit else None,
            "plan_fits": {plan: asdict(fit) for plan, fit in subs.plan_fits.items()},
            "warnings": subs.warnings, "notes": subs.notes,
        },  # fmt: skip
    }
    # models unsorted: a fit's parameters are in its model's order (`Fit.values`)
    frame = pd.DataFrame({
        "fitted_as_of": [pd.Timestamp(as_of).tz_convert("UTC")], "salt": [salt()],
        "population": [json.dumps(units, sort_keys=True)], "models": [json.dumps(models)],
    })  # fmt: skip
    lake_views.write_arrow(lake_dir, TABLE, frame, con=con)


def load(con, lake_dir, units: dict[str, list[int]]) -> StoredModels | str | None:
    """The stored models, None when there are none, or why they cannot be used (a file or row
    that cannot be read is a reason to fit again, not a failure)."""
    try:
        lake_views.register(con, lake_dir, [TABLE])
        rows = con.execute(f"SELECT fitted_as_of, salt, population, models FROM {TABLE}").fetchall()
        if not rows:
            return None
        fitted_as_of, stored_salt, population_json, models_json = rows[0]
        population = json.loads(population_json)
        if not isinstance(population, dict) or any(
            not isinstance(v, list) or len(v) != 3 or not all(isinstance(n, int) for n in v) for v in population.values()
        ):
            raise ValueError(f"population is not a mapping of [count, count, fittable]: {population_json[:80]}")
        models = json.loads(models_json)
        subs = models["subscribers"]
        return StoredModels(
            fitted_as_of.astimezone(UTC),
            stored_salt,
            population,
            [_currency(m, units.get(f"buyers:{m['currency']}", [0, 0])) for m in models["currencies"]],
            SubscriberModel(
                fit=_fit(subs["fit"]),
                plan_fits={plan: Fit(**fit) for plan, fit in subs["plan_fits"].items()},
                warnings=subs["warnings"], notes=subs["notes"],
            ),  # fmt: skip
        )
    except (duckdb.Error, ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"stored models unreadable ({type(exc).__name__}: {exc})"
