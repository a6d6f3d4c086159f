"""Benchmark: fitting and scoring the predicted-trait models on 1M customers (target <= 30 s on 2
cores), and parameter recovery on generated buyers with known parameters.

`python benchmarks/bench_predictions.py [--customers 1000000] [--seed 1]`
The buyers are BG/NBD + Gamma-Gamma buyers (`lib/generator/purchase_process.py`, the published
CDNOW estimates as true parameters) first buying over a year; their summary is rounded to whole
days, as the SQL summary is. Timed: what the predictions stage does per currency after the SQL
summary (model choice between BG/NBD and Pareto/NBD, the Gamma-Gamma fit, scoring every customer).
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import asdict

import numpy as np
import pandas as pd

from uds_pipelines.lib.generator.purchase_process import BuyerParams, simulate_summary
from uds_pipelines.lib.predictions.buyers import fit_currency, score_currency
from uds_pipelines.lib.predictions.traits import churn_risk

TARGET_SECONDS = 30.0
RECOVERY_TOLERANCE = 0.05


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def summary_frame(n: int, seed: int, truth: BuyerParams) -> pd.DataFrame:
    x, t_x, T, m = simulate_summary(n, truth, seed, t_min=1.0, t_max=52.0)
    return pd.DataFrame({
        "customer_id": np.arange(n).astype(str), "currency": "usd", "frequency": x,
        "recency": np.round(t_x * 7) / 7, "T": np.round(T * 7) / 7, "monetary_value": np.round(m, 2),
    })  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    truth = BuyerParams()
    summary = summary_frame(args.customers, args.seed, truth)
    started, cpu = time.perf_counter(), _cpu()
    models = fit_currency("usd", summary)
    fitted = time.perf_counter()
    scores = score_currency(models, summary) if models.scored else {}
    bands = churn_risk(1.0 - scores["p_alive"]) if scores else np.array([])
    seconds, cpu_seconds = time.perf_counter() - started, _cpu() - cpu
    print(
        f"customers: {args.customers:,}  repeat buyers: {models.repeat_buyers:,}  warnings: {models.warnings}"
    )
    print(f"fit: {fitted - started:.2f} s  score: {seconds - (fitted - started):.2f} s  "
          f"total: {seconds:.2f} s wall, {cpu_seconds:.2f} s CPU  "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")  # fmt: skip
    verdict = "PASS" if models.scored and seconds <= TARGET_SECONDS else "MISS"
    print(
        f"{verdict}: fit + score of {args.customers:,} customers in {seconds:.1f} s (target <= {TARGET_SECONDS:.0f} s)"
    )
    if not models.scored:
        return 1
    fitted_params = models.purchase.params | (models.spend.params if models.spend else {})
    print(
        f"\nmodel chosen: {models.purchase.model}; parameter recovery (true values: the published CDNOW estimates)"
    )
    print("| parameter | true | fitted | error |\n|---|---|---|---|")
    recovered = True
    for name, true in asdict(truth).items():
        got = fitted_params.get(name)
        error = abs(got - true) / true if got is not None else float("inf")
        recovered &= error <= RECOVERY_TOLERANCE
        print(
            f"| {name} | {true} | {got:.4g} | {error:.2%} |"
            if got is not None
            else f"| {name} | {true} | - | - |"
        )
    print(f"{'PASS' if recovered else 'MISS'}: every parameter within {RECOVERY_TOLERANCE:.0%}")
    print(f"\nmean p_alive {np.nanmean(scores['p_alive']):.3f}; expected purchases in 90 days "
          f"{np.nansum(scores['expected_purchases_90d']):,.0f}; churn risk "
          f"{ {str(k): int(v) for k, v in zip(*np.unique(bands.astype(str), return_counts=True), strict=True)} }")  # fmt: skip
    return 0 if verdict == "PASS" and recovered else 1


if __name__ == "__main__":
    raise SystemExit(main())
