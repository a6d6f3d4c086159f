"""Birth dates written as ISO, day-first or month-first text, to a date; ambiguous text gives None."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

# 1979-12-05, 1979/12/05, 1979.12.5, optionally followed by a time ("1979-12-05T00:00:00Z").
_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?")
# 05/12/1979, 5.12.1979, 05-12-1979: day-first or month-first, decided below.
_YEAR_LAST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
# 5 Dec 1979, 5 December 1979, December 5, 1979, Dec 5 1979 (English month names only).
_NAMED = ("%d %b %Y", "%d %B %Y", "%B %d %Y", "%b %d %Y", "%d-%b-%Y")
ORDERS = ("dmy", "mdy")
MIN_YEAR = 1900


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    return value if MIN_YEAR <= year and value <= date.today() else None


@lru_cache(maxsize=262_144)
def normalize_birth_date(raw: str | None, order: str | None = None) -> date | None:
    """The date `raw` names, or None when it is not a plausible birth date or cannot be read for sure.

    `a/b/yyyy` is read day-first when a > 12, month-first when b > 12, and as the one date it can be
    when a == b. Otherwise it is ambiguous and needs `order` (`"dmy"` or `"mdy"`), the format the
    source declares; without one it gives None rather than a guess. Two-digit years give None.
    """
    if raw is None or not isinstance(raw, str):
        return None
    if order is not None and order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, not {order!r}")
    text = " ".join(raw.split())
    if match := _YEAR_FIRST.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
        return _valid(year, month, day)
    if match := _YEAR_LAST.fullmatch(text):
        first, second, year = (int(g) for g in match.groups())
        if first > 12 or first == second:
            return _valid(year, second, first)
        if second > 12:
            return _valid(year, first, second)
        if order is None:
            return None
        return _valid(year, second, first) if order == "dmy" else _valid(year, first, second)
    cleaned = text.replace(",", " ").replace(".", " ")
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", " ".join(cleaned.split()), flags=re.IGNORECASE)
    for pattern in _NAMED:
        try:
            parsed = datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
        return _valid(parsed.year, parsed.month, parsed.day)
    return None


def birth_date_iso(raw: str | None, order: str | None = None) -> str | None:
    """`normalize_birth_date` as `YYYY-MM-DD` text (what the DuckDB function returns)."""
    value = normalize_birth_date(raw, order)
    return value.isoformat() if value else None
