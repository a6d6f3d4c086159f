"""Which source field holds an app's own user id (the `external_id` of a landed record).

A survey response or form submission keeps one `external_id`: the value of the first field, in the
record's own order, whose name is on the list and whose value is not blank (surrounding spaces
removed). Names compare case-insensitively, ignoring spaces, underscores and hyphens, so
`External Data Reference`, `ExternalDataReference` and `external_data_reference` are one name.
The field itself is kept where it was kept before (a form's `fields_json`, a survey answer); the
column is a copy. Stripe customers take it from `metadata` the same way (`lib.staging.stripe_sql`).

`UDS_EXTERNAL_ID_FIELDS` (comma-separated) replaces the default list; set to an empty string it
turns external ids off. `Settings.external_id_fields` reads it once and the landing and staging
stages pass the names down (`external_id_fields`), so a parser never reads the environment. SurveyMonkey's `Custom Data 1` columns are not on the default list because
accounts use them for anything (a campaign, a region); add them when they carry a user id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from uds_pipelines.lib.config import DEFAULT_EXTERNAL_ID_FIELDS

_IGNORED = re.compile(r"[\s_\-]+")
# Longer text in an id field is not an id (a pasted note); the field itself stays where it was kept.
MAX_EXTERNAL_ID_CHARS = 255


@lru_cache(maxsize=8192)
def field_key(name: str) -> str:
    """`External Data Reference` -> `externaldatareference`."""
    return _IGNORED.sub("", str(name).replace("\ufeff", "")).lower()


@lru_cache(maxsize=64)  # a function of the names alone: the same few lists on every field
def field_keys(names: tuple[str, ...]) -> frozenset[str]:
    """The compared forms of the listed names (blank ones dropped)."""
    return frozenset(k for k in (field_key(n) for n in names) if k)


def is_external_id_field(name: Any, external_id_fields: Sequence[str]) -> bool:
    """Whether a source field `name` is on the list `external_id_fields` (`Settings.external_id_fields`)."""
    if name is None:
        return False
    return field_key(str(name)) in field_keys(tuple(external_id_fields))


def external_id_value(value: Any) -> str | None:
    """The id as landed text: trimmed scalar text (numbers keep their digits) of at most
    `MAX_EXTERNAL_ID_CHARS`, else None."""
    if value is None or isinstance(value, (bool, dict, list, tuple)):
        return None
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        value = int(value) if value.is_integer() else value
    text = str(value).strip()
    return text if text and len(text) <= MAX_EXTERNAL_ID_CHARS else None


def first_external_id(
    items: Iterable[tuple[Any, Any]], external_id_fields: Sequence[str] = DEFAULT_EXTERNAL_ID_FIELDS
) -> str | None:
    """The first non-blank value among (field name, value) pairs whose name is on the list."""
    for name, value in items:
        if is_external_id_field(name, external_id_fields):
            text = external_id_value(value)
            if text is not None:
                return text
    return None
