"""Literal needles for case-insensitive containment search in text, as one RE2/Python pattern."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import lru_cache

# Shorter strings would match unrelated text by accident (e.g. a 3-digit form id inside a payload).
MIN_NEEDLE_CHARS = 6
# Alternations much longer than this overflow RE2's DFA cache (see `split_pattern`).
MAX_PATTERN_CHARS = 10000
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


def _alternatives(pattern: str) -> tuple[str, list[str], str] | None:
    """(left, escaped needles, right) of a `needle_pattern` result; None if it is not one."""
    for left, right in ((_LEFT, _RIGHT), ("", "")):
        body = pattern[len(left) : len(pattern) - len(right)]
        if pattern.startswith(left) and pattern.endswith(right) and body[:1] == "(" and body[-1:] == ")":
            break
    else:
        return None
    items: list[str] = []
    current: list[str] = []
    chars = iter(body[1:-1])
    for ch in chars:
        if ch == "\\":
            current.append(ch + next(chars, ""))
        elif ch == "|":
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return left, items, right


def split_pattern(pattern: str, max_chars: int = MAX_PATTERN_CHARS) -> list[str]:
    """`pattern` as several patterns of at most about `max_chars` each that together match the same.

    RE2 runs a needle alternation as a DFA whose states it caches in a fixed memory budget; past
    roughly 18k pattern characters the cache thrashes and RE2 falls back to its NFA, some 50x
    slower. Scanning with a few smaller alternations (`regexp_matches(t, p1) OR ...`) keeps every
    scan on the fast DFA. Each part keeps the word boundaries, so a row matches a part exactly when
    it matches the whole. Patterns not built by `needle_pattern` come back unchanged.
    """
    if len(pattern) <= max_chars:
        return [pattern]
    return list(_split(pattern, max_chars))


@lru_cache(maxsize=16)
def _split(pattern: str, max_chars: int) -> tuple[str, ...]:
    # One erasure run asks for the same pattern once per text column of every file scanned.
    parsed = _alternatives(pattern)
    if parsed is None:
        return (pattern,)
    left, items, right = parsed
    chunks: list[list[str]] = [[]]
    size = 0
    for item in items:
        if chunks[-1] and size + len(item) + 1 > max_chars:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += len(item) + 1
    return tuple(left + "(" + "|".join(chunk) + ")" + right for chunk in chunks)


def matches_sql(text_sql: str, pattern: str) -> str:
    """SQL predicate: `text_sql` matches `pattern`, scanned in DFA-sized parts (NULL for NULL text)."""
    parts = [f"regexp_matches({text_sql}, {sql_string(p)})" for p in split_pattern(pattern)]
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def contains_any_sql(column_sql: str, pattern: str | None) -> str:
    """SQL predicate: lower(column) contains any needle (NULL-safe: false for NULL)."""
    if not pattern:
        return "false"
    return f"coalesce({matches_sql(f'lower({column_sql})', pattern)}, false)"


def compile_pattern(needles: Iterable[str]) -> re.Pattern[str] | None:
    pattern = needle_pattern(needles)
    return re.compile(pattern) if pattern else None


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_E164 = re.compile(r"^\+[0-9]{6,15}$")


def audience_hashes(value: str) -> set[str]:
    """The SHA-256 hex an audience file may carry for one email or phone value.

    The trimmed, lower-cased value (`hashed` email and E.164 phone; Google's and Meta's email); for
    an E.164 phone also its digits without '+' (Meta's and TikTok's phone form).
    """
    text = value.strip()
    out = {sha256_hex(text.lower()), sha256_hex(text)}
    if _E164.match(text):
        out.add(sha256_hex(text[1:].lstrip("0")))
    return out
