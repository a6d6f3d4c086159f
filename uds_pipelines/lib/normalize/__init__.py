"""Normalization of identifiers (email, phone, name, country) shared by every source and identity."""

from uds_pipelines.lib.normalize.country import normalize_country
from uds_pipelines.lib.normalize.duckdb_udfs import register_duckdb_udfs
from uds_pipelines.lib.normalize.email import (
    EmailResult,
    email_match_key,
    normalize_email,
    normalize_email_strict,
    normalize_emails,
)
from uds_pipelines.lib.normalize.names import NameResult, normalize_name, split_full_name
from uds_pipelines.lib.normalize.phone import PhoneResult, normalize_phone, normalize_phones

__all__ = [
    "EmailResult",
    "NameResult",
    "PhoneResult",
    "email_match_key",
    "normalize_country",
    "normalize_email",
    "normalize_email_strict",
    "normalize_emails",
    "normalize_name",
    "normalize_phone",
    "normalize_phones",
    "register_duckdb_udfs",
    "split_full_name",
]
