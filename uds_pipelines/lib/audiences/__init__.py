"""Audiences: consent-safe exports of segments as files and warehouse rows."""

from uds_pipelines.lib.audiences.checks import check_audience
from uds_pipelines.lib.audiences.definitions import (
    DESTINATIONS,
    FORMATS,
    AudienceDefinition,
    AudienceError,
    load_audiences,
    parse_audiences,
)
from uds_pipelines.lib.audiences.destinations import DESTINATION_FORMATS
from uds_pipelines.lib.audiences.export import (
    AudienceCheckFailed,
    audience_file_name,
    audience_members_table,
    formula_safe_sql,
    write_audience_files,
)
from uds_pipelines.lib.audiences.hashing import hash_email, hash_phone
from uds_pipelines.lib.audiences.plan import (
    COUNT_KEYS,
    FILE_COLUMNS,
    FORMAT_COLUMNS,
    AudiencePlan,
    plan_audience,
)

__all__ = [
    "COUNT_KEYS",
    "DESTINATIONS",
    "DESTINATION_FORMATS",
    "FILE_COLUMNS",
    "FORMATS",
    "FORMAT_COLUMNS",
    "AudienceCheckFailed",
    "AudienceDefinition",
    "AudienceError",
    "AudiencePlan",
    "audience_file_name",
    "audience_members_table",
    "check_audience",
    "hash_email",
    "hash_phone",
    "load_audiences",
    "formula_safe_sql",
    "parse_audiences",
    "plan_audience",
    "write_audience_files",
]
