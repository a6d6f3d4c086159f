"""Privacy operations: resolve requests, suppress, erase, verify, access reports, retention, audit."""

from uds_pipelines.lib.privacy.access import build_access_report, write_access_report
from uds_pipelines.lib.privacy.audit import audit_row, completed_request_ids, read_audit, write_audit
from uds_pipelines.lib.privacy.erasure import ErasureReport, erase_subjects, forget_requests
from uds_pipelines.lib.privacy.pending import pending_requests, resolve_pending
from uds_pipelines.lib.privacy.requests import Subject, resolve_subjects, subjects_from_frame
from uds_pipelines.lib.privacy.retention import apply_retention
from uds_pipelines.lib.privacy.state import load_in_progress
from uds_pipelines.lib.privacy.suppression import (
    add_to_suppression,
    filter_suppressed,
    register_suppression,
    suppressed_sql,
    suppression_hash,
    suppression_hashes,
)
from uds_pipelines.lib.privacy.verify import Finding, verify_erased
from uds_pipelines.lib.privacy.workflow import PrivacyRunResult, handle_access_requests, handle_requests

__all__ = [
    "ErasureReport",
    "Finding",
    "PrivacyRunResult",
    "Subject",
    "add_to_suppression",
    "apply_retention",
    "audit_row",
    "build_access_report",
    "completed_request_ids",
    "erase_subjects",
    "filter_suppressed",
    "forget_requests",
    "handle_access_requests",
    "handle_requests",
    "load_in_progress",
    "pending_requests",
    "read_audit",
    "register_suppression",
    "resolve_pending",
    "resolve_subjects",
    "subjects_from_frame",
    "suppressed_sql",
    "suppression_hash",
    "suppression_hashes",
    "verify_erased",
    "write_access_report",
    "write_audit",
]
