"""Literal needles for case-insensitive containment search in text, as one RE2/Python pattern."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable

# Shorter strings would match unrelated text by accident (e.g. a 3-digit form id inside a payload).
MIN_NEEDLE_CHARS = 6
_RE2_SPECIAL = set(r"\.^$|?*+()[]{}-/#&~")
# Boundaries so `ann@x.com` does not match inside `joann@x.com`, nor `+1415555012` inside a longer
# number, nor `cus_abc` inside `cus_abcd`; a trailing dot is allowed only when no label follows it.
_LEFT = r"(?:^|[^a-z0-9_.%+'-])"
_RIGHT = r"(?:$|[^a-z0-9_.-]|\.(?:$|[^a-z0-9]))"


def _escape(text: str) -> str:
    """Escape for RE2 and Python `re` alike: only punctuation both accept escaped."""
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in text)


def expand_needles(values: Iterable[str | None]) -> list[str]:
    """Lower-cased needles plus their JSON-escaped spelling (non-ASCII as \\uXXXX in payload text)."""
    out: set[str] = set()
    for value in values:
        if value is None:
            continue
        text = str(value).strip().lower()
        if len(text) < MIN_NEEDLE_CHARS:
            continue
        out.add(text)
        escaped = json.dumps(text)[1:-1]
        if escaped != text:
            out.add(escaped)
            out.add(escaped.replace("/", "\\/"))
    return sorted(out, key=lambda s: (-len(s), s))


def needle_pattern(needles: Iterable[str], bounded: bool = True) -> str | None:
    """An alternation matching any needle in lower-cased text; None when there is nothing to find.

    Group 1 is the needle itself, so `regexp_extract_all(text, pattern, 1)` tells which one matched.
    """
    items = sorted(set(needles), key=lambda s: (-len(s), s))
    if not items:
        return None
    alternation = "(" + "|".join(_escape(n) for n in items) + ")"
    # Binary formats pack fields without separators, so there only plain containment is sound.
    return _LEFT + alternation + _RIGHT if bounded else alternation


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def contains_any_sql(column_sql: str, pattern: str | None) -> str:
    """SQL predicate: lower(column) contains any needle (NULL-safe: false for NULL)."""
    if not pattern:
        return "false"
    return f"coalesce(regexp_matches(lower({column_sql}), {sql_string(pattern)}), false)"


def compile_pattern(needles: Iterable[str]) -> re.Pattern[str] | None:
    pattern = needle_pattern(needles)
    return re.compile(pattern) if pattern else None


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
