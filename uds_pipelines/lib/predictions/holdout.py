"""The calibration/holdout check: fit on the history up to a split day, predict each customer's
purchases in the rest, and compare with what they did (Fader, Hardie and Lee 2005, figure 4).

The table groups customers by their calibration repeat purchases (0, 1, ..., 6, 7+) and shows the
mean actual and predicted holdout purchases; the aggregate error is (predicted - actual) / actual
over every customer. A warning is raised past POOR_ERROR."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# |aggregate error| above this is a poor holdout fit (the published CDNOW fit is within 2%)
POOR_ERROR = 0.20
# the holdout is the last third of the span from the first purchase to the end day, at most a year
HOLDOUT_FRACTION = 1 / 3
MAX_HOLDOUT_DAYS = 365
TOP_BUCKET = 7


@dataclass
class Holdout:
    model: str
    calibration_end: str
    holdout_weeks: float
    customers: int
    actual: float
    predicted: float
    mean_absolute_error: float
    table: pd.DataFrame

    @property
    def aggregate_error(self) -> float | None:
        """(predicted - actual) / actual; None when nobody bought in the holdout window."""
        return (self.predicted - self.actual) / self.actual if self.actual else None

    def error_text(self) -> str:
        error = self.aggregate_error
        return "n/a (no purchases in the holdout window)" if error is None else f"{error:+.1%}"

    @property
    def poor(self) -> bool:
        error = self.aggregate_error
        return error is None or not abs(error) <= POOR_ERROR

    def warning(self) -> str | None:
        if not self.poor:
            return None
        return (f"holdout error {self.error_text()} ({self.model}: {self.predicted:.0f} purchases "
                f"predicted, {self.actual:.0f} made in the {self.holdout_weeks:.1f} weeks after "
                f"{self.calibration_end}): beyond +/-{POOR_ERROR:.0%}; treat the predicted columns with care")  # fmt: skip

    def figures(self) -> dict:
        return {"model": self.model, "calibration_end": self.calibration_end,
                "holdout_weeks": round(self.holdout_weeks, 2), "customers": self.customers,
                "actual_purchases": self.actual, "predicted_purchases": round(self.predicted, 1),
                "aggregate_error": None if self.aggregate_error is None else round(self.aggregate_error, 4),
                "mean_absolute_error": round(self.mean_absolute_error, 4)}  # fmt: skip


def holdout_days(span_days: int) -> int:
    return int(min(MAX_HOLDOUT_DAYS, span_days * HOLDOUT_FRACTION))


def per_frequency(frequency, actual, predicted) -> pd.DataFrame:
    """Customers, mean actual and mean predicted holdout purchases per calibration frequency."""
    bucket = np.minimum(np.asarray(frequency, dtype=int), TOP_BUCKET)
    frame = pd.DataFrame({"bucket": bucket, "actual": actual, "predicted": predicted})
    table = frame.groupby("bucket").agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    table.index = [f"{b}+" if b == TOP_BUCKET else str(b) for b in table.index]
    table.index.name = "repeat purchases (calibration)"
    return table.round(3)


def evaluate(model: str, calibration_end: str, weeks: float, frequency, actual, predicted) -> Holdout:
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    return Holdout(model, calibration_end, weeks, len(actual), float(actual.sum()), float(predicted.sum()),
                   float(np.mean(np.abs(predicted - actual))) if len(actual) else 0.0,
                   per_frequency(frequency, actual, predicted))  # fmt: skip


def markdown(holdout: Holdout) -> str:
    """The holdout table as markdown for the asset's metadata."""
    head = (f"Fit on purchases up to {holdout.calibration_end}, predicted for the next "
            f"{holdout.holdout_weeks:.1f} weeks ({holdout.model}); aggregate error "
            f"{holdout.error_text()}, mean absolute error {holdout.mean_absolute_error:.3f} per customer.")  # fmt: skip
    rows = [
        "| repeat purchases (calibration) | customers | actual (mean) | predicted (mean) |",
        "|---|---|---|---|",
    ]
    rows += [
        f"| {k} | {int(r.customers)} | {r.actual:.3f} | {r.predicted:.3f} |"
        for k, r in holdout.table.iterrows()
    ]
    return head + "\n\n" + "\n".join(rows)
