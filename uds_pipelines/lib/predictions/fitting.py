"""Maximum-likelihood fitting shared by every model: several starts, positive parameters optimized
on their logarithms, and the guards the published models need (no convergence, degenerate
parameters). A failed fit returns its reasons instead of numbers, never silent nonsense."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

# Parameters outside this range mean the likelihood ran off to a boundary (a gamma or beta
# mixing distribution collapsing to a point or spreading without bound): the fit is degenerate.
PARAM_MIN, PARAM_MAX = 1e-4, 1e4


@dataclass
class Fit:
    model: str
    params: dict[str, float]
    loglik: float
    n: int
    converged: bool
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.converged and not self.problems

    def values(self) -> tuple[float, ...]:
        return tuple(self.params.values())


def fit_mle(
    model: str,
    names: Sequence[str],
    negloglik: Callable[[np.ndarray], float],
    starts: Sequence[Sequence[float]],
    n: int,
) -> Fit:
    """Minimize `negloglik(params)` (the total, already weighted) from each start in `starts`
    (natural-scale parameters) on log-parameters; keep the best converged optimum.

    Guards: every start failing is `no convergence`; a best optimum with a parameter at the edge of
    [PARAM_MIN, PARAM_MAX] is `degenerate`; a non-finite likelihood is `non-finite`."""

    def objective(log_params: np.ndarray) -> float:
        value = negloglik(np.exp(log_params))
        return float(value) if np.isfinite(value) else 1e300

    best = None
    for start in starts:
        with np.errstate(all="ignore"):
            result = minimize(
                objective,
                np.log(np.asarray(start, dtype=float)),
                method="Nelder-Mead",
                options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000, "maxfev": 8000},
            )
            # polish: Nelder-Mead finds the basin, BFGS the exact optimum
            polished = minimize(objective, result.x, method="L-BFGS-B")
        if polished.fun <= result.fun:
            result = polished if polished.success or result.success else result
        if best is None or (result.success, -result.fun) > (best.success, -best.fun):
            best = result
    assert best is not None
    params = np.exp(best.x)
    problems = []
    if not best.success:
        problems.append(f"no convergence: {best.message}")
    if not np.isfinite(best.fun) or best.fun >= 1e299:
        problems.append("non-finite likelihood at every start")
    edge = [
        f"{name}={value:.3g}"
        for name, value in zip(names, params, strict=True)
        if not PARAM_MIN < value < PARAM_MAX
    ]
    if edge:
        problems.append(
            f"degenerate parameters (at the edge of [{PARAM_MIN:g}, {PARAM_MAX:g}]): {', '.join(edge)}"
        )
    return Fit(model, {k: float(v) for k, v in zip(names, params, strict=True)}, -float(best.fun), n,
               bool(best.success), problems)  # fmt: skip


def compress(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique rows of the stacked columns, their counts and the inverse index: the likelihood and
    the scores are computed once per distinct summary row and weighted (1M customers over a few
    years of daily data have far fewer distinct (frequency, recency, T) rows)."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    unique, inverse, counts = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
    return unique, counts.astype(float), inverse.reshape(-1)
