"""Predicted traits: BG/NBD, Pareto/NBD, Gamma-Gamma and shifted-beta-geometric models fitted by
maximum likelihood on the RFM summary, with the calibration/holdout check (docs/predictions.md)."""
