"""Segments: YAML definitions, membership, history across runs (RFM scores are profile columns:
`lib.profiles.rfm`)."""

from uds_pipelines.lib.segments.definitions import (
    SegmentDefinition,
    SegmentError,
    load_segments,
    parse_segments,
    validate_segments,
)
from uds_pipelines.lib.segments.history import changes_since_sql, membership_from_history, update_history
from uds_pipelines.lib.segments.membership import MembershipResult, compute_membership, write_membership

__all__ = [
    "MembershipResult",
    "SegmentDefinition",
    "SegmentError",
    "changes_since_sql",
    "compute_membership",
    "load_segments",
    "membership_from_history",
    "parse_segments",
    "update_history",
    "validate_segments",
    "write_membership",
]
