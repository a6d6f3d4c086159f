"""Segment-compatible event collection: message checks, durable spool and the Starlette app."""
