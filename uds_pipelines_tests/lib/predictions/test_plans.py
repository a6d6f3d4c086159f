"""Retention per plan: subscriptions of plans that churn differently get a model each, recovering
each plan's own shifted-beta-geometric parameters; a small plan shares the model over all plans."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from uds_pipelines.lib import connection
from uds_pipelines.lib.predictions import contracts
from uds_pipelines.lib.predictions.stage import build_predictions
from uds_pipelines.lib.predictions.subscribers import fit_subscribers, load_subscriptions
from uds_pipelines_tests.lib.predictions.lake import START, build_lake, read
from uds_pipelines_tests.lib.profiles.helpers import columns, identity_map, write

# plan -> (alpha, beta) of the churn probability's beta distribution, subscriptions
PLANS = {"price_monthly": (1.0, 3.0, 900), "price_annual": (1.0, 15.0, 900), "price_tiny": (1.0, 1.0, 10)}


def _subscriptions(lake_dir, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    as_of_days, subs, people = 720, [], {}
    for plan, (alpha, beta, n) in PLANS.items():
        churn = rng.beta(alpha, beta, n)
        for j in range(n):
            months_open = int(rng.integers(1, 23))  # every start month of two years: censored cohorts
            lifetime = int(rng.geometric(churn[j]))  # months until cancelling
            created = START + timedelta(days=as_of_days - months_open * 30.44 - 1)
            ended = lifetime <= months_open
            cid = f"cus_{plan}_{j}"
            subs.append({"subscription_id": f"sub_{plan}_{j}", "customer_id": cid, "currency": "eur",
                         "status": "canceled" if ended else "active", "mrr_minor": 1000, "created": created,
                         "canceled_at": created + timedelta(days=lifetime * 30.44 - 2) if ended else None,
                         "plan": plan})  # fmt: skip
            people[f"uds_{plan}_{j}"] = [("stripe", cid)]
    write(lake_dir, "staging/stripe_subscriptions.parquet", subs, columns("stripe_subscriptions"))
    identity_map(lake_dir, people)


def test_each_plan_with_enough_history_gets_its_own_retention_model(tmp_path):
    settings = build_lake(tmp_path, buyers=30, subscribers=0)
    _subscriptions(settings.lake_dir)
    con = connection.for_settings(settings)
    try:
        model = fit_subscribers(load_subscriptions(con, settings.as_of()))
    finally:
        con.close()
    assert set(model.plan_fits) == {"price_monthly", "price_annual"}  # price_tiny: too few
    for plan in model.plan_fits:
        alpha, beta, _ = PLANS[plan]
        fitted = model.plan_fits[plan].params
        # the mean churn alpha / (alpha + beta) is what 900 subscriptions pin down well
        assert abs(fitted["alpha"] / (fitted["alpha"] + fitted["beta"]) - alpha / (alpha + beta)) < 0.04, (
            plan,
            fitted,
        )

    stage = build_predictions(settings)
    subs = read(settings, "customer_predictions").set_index("customer_id")
    assert set(subs["model"]) == {"sbg:price_monthly", "sbg:price_annual", "sbg"}
    monthly = subs[subs["model"] == "sbg:price_monthly"]
    annual = subs[subs["model"] == "sbg:price_annual"]
    # the same tenure churns more on the plan whose subscribers leave more
    for tenure in (1.0, 6.0):
        assert (monthly[monthly["tenure_months"] == tenure]["churn_next_month"].min()
                > annual[annual["tenure_months"] == tenure]["churn_next_month"].max())  # fmt: skip
    # the asset's metadata shows each plan's parameters
    assert set(stage.subscribers.figures()["params_by_plan"]) == {"price_monthly", "price_annual"}


def test_a_subscription_that_ended_without_an_end_time_is_left_out_of_the_fit(tmp_path):
    # Not live and no canceled_at (an unknown status, an incomplete subscription that expired): when
    # it ended is unknown, and dating its churn to the as-of day would make it older on every run.
    settings = build_lake(tmp_path, buyers=30, subscribers=40)
    con = connection.connect(settings.lake_dir)
    try:
        ids = {
            r[0]
            for r in con.execute(
                f"SELECT customer_id FROM ({contracts.subscriptions_sql(settings.as_of())})"
            ).fetchall()
        }
        periods = con.execute(
            f"SELECT count(*) FROM ({contracts.subscriptions_sql(settings.as_of())}) WHERE NOT live"
        ).fetchone()[0]
    finally:
        con.close()
    assert periods == sum(1 for j in range(40) if j % 3 == 0)  # the cancelled ones, not sub_unknown
    assert len(ids) == 40


def test_subscribers_are_scored_as_each_alone_whatever_tenures_repeat():
    """Scores are computed once per distinct tenure and spread back: each subscriber's equal the
    model's terms for that subscriber alone, in the input's order, with every MRR its own."""
    from uds_pipelines.lib.predictions import sbg
    from uds_pipelines.lib.predictions.score import HORIZON_MONTHS, MONTHLY_DISCOUNT

    params = (0.8, 2.5)
    tenure = np.array([5.0, 0.0, 5.0, 37.0, 1.0, 0.0, 37.0, 12.0])
    mrr = np.array([10.0, 20.0, 30.0, 5.0, 99.0, 1.0, 7.5, 0.0])
    scores = contracts.score_subscribers(params, tenure, mrr)
    ahead = np.arange(1, HORIZON_MONTHS + 1)
    for i, (n, m) in enumerate(zip(tenure, mrr, strict=True)):
        survival = sbg.survival_ratio(params, n, ahead)
        churn = sbg.churn_next(params, n)
        assert scores["churn_next_month"][i] == churn and scores["p_alive"][i] == 1.0 - churn
        assert np.isclose(scores["expected_purchases_90d"][i], survival[:3].sum(), rtol=1e-12)
        assert scores["churn_3m"][i] == 1.0 - survival[2]
        assert scores["expected_residual_months"][i] == sbg.residual_lifetime(params, n, MONTHLY_DISCOUNT)
        clv = m * ((1 + MONTHLY_DISCOUNT) ** -ahead * survival).sum()
        assert np.isclose(scores["predicted_clv_12m"][i], clv, rtol=1e-12)
    assert scores["predicted_clv_12m"][7] == 0.0 and scores["predicted_clv_12m"][1] > 0
