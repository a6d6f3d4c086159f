"""Normalization of identifiers (email, phone, name, country) and of the attributes probabilistic
matching compares (birth date, address), shared by every source and identity."""

from uds_pipelines.lib.normalize.address import address_key, place_key, postcode_key
from uds_pipelines.lib.normalize.country import normalize_country
from uds_pipelines.lib.normalize.dates import normalize_birth_date
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
    "address_key",
    "email_match_key",
    "normalize_birth_date",
    "normalize_country",
    "normalize_email",
    "normalize_email_strict",
    "normalize_emails",
    "normalize_name",
    "normalize_phone",
    "normalize_phones",
    "place_key",
    "postcode_key",
    "register_duckdb_udfs",
    "split_full_name",
]
