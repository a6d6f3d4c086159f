"""Maximum-likelihood fitting shared by every model: several starts, positive parameters optimized
on their logarithms, and the guards the published models need (no convergence, degenerate
parameters). A failed fit returns its reasons instead of numbers, never silent nonsense.

Summaries over SAMPLE customers: the starts search a deterministic sample of SAMPLE customers,
then the best optimum is polished on every customer, so a million customers cost a few dozen
full evaluations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

# Parameters outside this range mean the likelihood ran off to a boundary (a gamma or beta
# mixing distribution collapsing to a point or spreading without bound): the fit is degenerate.
PARAM_MIN, PARAM_MAX = 1e-4, 1e4
_LOG_MIN, _LOG_MAX = np.log(PARAM_MIN), np.log(PARAM_MAX)
_EDGE = 1e-3  # on the log scale: a parameter within 0.1% of the box's edge ran off to it
SAMPLE = 1_000  # customers: enough to find the basin and to choose between models
_BASIN = {"ftol": 1e-5}  # the starts only find the basin: the polish does the precision
# the optimum to the precision the papers print (the likelihood is flat along some directions)
_POLISH = {"ftol": 1e-13, "gtol": 1e-9, "maxiter": 1000}
_SEARCH = {"xatol": 1e-4, "fatol": 1e-10, "maxiter": 3000, "maxfev": 6000}


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


def _objective(mean_negloglik: Callable[[np.ndarray], float]) -> Callable[[np.ndarray], float]:
    def objective(log_params: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            value = mean_negloglik(np.exp(log_params))
        return float(value) if np.isfinite(value) else 1e300

    return objective


def fit_mle(
    model: str,
    names: Sequence[str],
    full: Callable[[np.ndarray], float],
    starts: Sequence[Sequence[float]],
    n: float,
    sample: Callable[[np.ndarray], float] | None = None,
) -> Fit:
    """Minimize `full(params)`, the mean negative log-likelihood per customer, from each start
    (natural-scale parameters) on log-parameters: L-BFGS-B on `sample` (or `full`) finds the
    basin, L-BFGS-B on `full` the optimum, Nelder-Mead from there when its line search stalls.

    Guards: no converged optimum is `no convergence`; a parameter at the edge of
    [PARAM_MIN, PARAM_MAX] is `degenerate`; a non-finite likelihood everywhere is `non-finite`."""
    search, exact = _objective(sample or full), _objective(full)
    # searched inside the box: past its edge the fit is degenerate whatever the optimum, and the
    # likelihoods get slow there (Pareto/NBD's hypergeometric terms as s and beta grow together)
    bounds = [(_LOG_MIN, _LOG_MAX)] * len(names)
    found = [
        minimize(search, np.log(np.asarray(s, dtype=float)), method="L-BFGS-B", bounds=bounds, options=_BASIN)
        for s in starts
    ]
    basin = min(found, key=lambda r: r.fun)
    best = minimize(exact, basin.x, method="L-BFGS-B", bounds=bounds, options=_POLISH)
    if not best.success:
        # L-BFGS-B's line search can stall on a flat or ridged likelihood: Nelder-Mead from there
        simplex = minimize(exact, best.x, method="Nelder-Mead", bounds=bounds, options=_SEARCH)
        best = simplex if simplex.fun <= best.fun else best
    params = np.exp(best.x)
    problems = []
    if not best.success:
        problems.append(f"no convergence: {best.message}")
    if best.fun >= 1e299:
        problems.append("non-finite likelihood at every start")
    edge = [f"{k}={v:.3g}" for k, v, lv in zip(names, params, best.x, strict=True)
            if not _LOG_MIN + _EDGE < lv < _LOG_MAX - _EDGE]  # fmt: skip
    if edge:
        problems.append(
            f"degenerate parameters (at the edge of [{PARAM_MIN:g}, {PARAM_MAX:g}]): {', '.join(edge)}"
        )
    loglik = -float(best.fun) * n
    return Fit(model, {k: float(v) for k, v in zip(names, params, strict=True)}, loglik, int(n),
               bool(best.success), problems)  # fmt: skip


def compress(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of the stacked columns (sorted by the first column, then the next...), their
    counts and the inverse index: likelihoods and scores are computed once per distinct summary row
    (1M customers over a few years of daily data have a few hundred thousand)."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    if len(stacked) == 0:
        return stacked, np.zeros(0), np.zeros(0, dtype=int)
    order = np.lexsort(stacked.T[::-1])
    ordered = stacked[order]
    starts = np.concatenate(([True], np.any(ordered[1:] != ordered[:-1], axis=1)))
    group = np.cumsum(starts) - 1
    inverse = np.empty(len(stacked), dtype=int)
    inverse[order] = group
    return ordered[starts], np.bincount(group).astype(float), inverse


def sample_rows(size: int, seed: int = 0) -> np.ndarray | None:
    """A fixed random choice of SAMPLE row indices out of `size` (None when size <= SAMPLE)."""
    if size <= SAMPLE:
        return None
    return np.sort(np.random.default_rng(seed).choice(size, SAMPLE, replace=False))


def by_value(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, index of each row's value): terms that depend on one column only (x) are
    computed once per distinct value."""
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, inverse.reshape(-1)


def logaddexp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(e^a + e^b), -inf terms allowed (numpy's ufunc is several times slower)."""
    high = np.maximum(a, b)
    with np.errstate(invalid="ignore"):
        rest = np.log1p(np.exp(-np.abs(a - b)))
    return high + np.where(np.isneginf(high), 0.0, rest)


def weighted_mean(weights: np.ndarray, values: np.ndarray) -> float:
    """Sum of weights * values over the sum of weights (no BLAS call: it contends for cores)."""
    return float((weights * values).sum() / weights.sum())
