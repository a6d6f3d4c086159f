"""Stripe event file landing internals (SQL, reasons, cleaning)."""
