"""Stripe webhook receiver: signature verification, durable spool and the Starlette app."""
