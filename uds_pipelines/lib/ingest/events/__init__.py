"""Behavioural events (Segment/RudderStack messages) from inbox/events into `lake/events/`."""
