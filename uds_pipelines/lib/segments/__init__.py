"""Segments: YAML definitions, membership, history across runs, RFM scores."""

from uds_pipelines.lib.segments.definitions import (
    SegmentDefinition,
    SegmentError,
    load_segments,
    parse_segments,
    validate_segments,
)
from uds_pipelines.lib.segments.history import (
    HISTORY_COLUMNS,
    MEMBERSHIP_COLUMNS,
    changes_since_sql,
    membership_from_history,
    update_history,
)
from uds_pipelines.lib.segments.membership import MembershipResult, compute_membership, write_membership
from uds_pipelines.lib.segments.rfm import RFM_COLUMNS, add_rfm_scores

__all__ = [
    "HISTORY_COLUMNS",
    "MEMBERSHIP_COLUMNS",
    "RFM_COLUMNS",
    "MembershipResult",
    "SegmentDefinition",
    "SegmentError",
    "add_rfm_scores",
    "changes_since_sql",
    "compute_membership",
    "load_segments",
    "membership_from_history",
    "parse_segments",
    "update_history",
    "validate_segments",
    "write_membership",
]
