"""Survey tools' timestamp formats to timezone-aware UTC; date order decided per column, never per cell."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

_TIME = r"(?:[ T,]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
_ZONE = r"\s*(?P<zone>Z|(?:GMT|UTC)?\s*[+-]\d{1,2}(?::?\d{2})?|GMT|UTC)?"
# Year first: ISO 8601 and Google Forms' "2024/01/31 9:15:02 AM GMT+1".
YEAR_FIRST = re.compile(r"^(?P<y>\d{4})[-/.](?P<a>\d{1,2})[-/.](?P<b>\d{1,2})" + _TIME + _ZONE + r"$")
# Year last: SurveyMonkey "11/05/2021 10:11:21 AM", Google "1/31/2024 9:15:02", European "31.01.2024 09:15".
YEAR_LAST = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})" + _TIME + _ZONE + r"$"
)


def column_date_order(values: list[str]) -> str:
    """`mdy` or `dmy` for year-last dates: a first number above 12 proves day-first, a second proves month-first.

    Ambiguous columns follow the US convention of the tools that write them (SurveyMonkey, Google),
    except dotted dates, which are European.
    """
    day_first = month_first = dotted = False
    for value in values:
        match = YEAR_LAST.match(value.strip()) if value else None
        if not match:
            continue
        a, b = int(match["a"]), int(match["b"])
        day_first |= a > 12
        month_first |= b > 12
        dotted |= match["sep"] == "."
    if day_first and not month_first:
        return "dmy"
    if month_first:
        return "mdy"
    return "dmy" if dotted else "mdy"


def resolve_zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_timestamp(
    value: str | None, order: str = "mdy", naive_tz: tzinfo | None = None
) -> pd.Timestamp | None:
    """One timestamp to UTC; None when it is not a timestamp. Naive values are read in `naive_tz` (else UTC)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    match = YEAR_FIRST.match(text)
    if match:
        year, month, day = int(match["y"]), int(match["a"]), int(match["b"])
    else:
        match = YEAR_LAST.match(text)
        if not match:
            return None
        year = int(match["y"])
        year = year + 2000 if year < 100 else year
        a, b = int(match["a"]), int(match["b"])
        month, day = (b, a) if order == "dmy" else (a, b)
    clock = _clock(match)
    if clock is None:
        return None
    try:
        stamp = datetime(year, month, day, *clock)
    except ValueError:
        return None
    zone = _zone(match["zone"])
    if zone is False:
        return None
    stamp = stamp.replace(tzinfo=zone or naive_tz or UTC)
    return pd.Timestamp(stamp).tz_convert("UTC")


def _clock(match: re.Match) -> tuple[int, int, int, int] | None:
    if match["H"] is None:
        return (0, 0, 0, 0)
    hour, minute = int(match["H"]), int(match["M"])
    second = int(match["S"] or 0)
    micro = int((match["f"] or "0")[:6].ljust(6, "0"))
    ampm = (match["ampm"] or "").replace(".", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = (hour % 12) + (12 if ampm == "pm" else 0)
    return (hour, minute, second, micro)


def _zone(text: str | None) -> tzinfo | None | bool:
    """The stated zone; None when none stated; False when it is malformed."""
    if not text:
        return None
    text = text.strip().upper()
    if text in ("Z", "GMT", "UTC"):
        return UTC
    match = re.match(r"^(?:GMT|UTC)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", text)
    if not match:
        return False
    hours, minutes = int(match[2]), int(match[3] or 0)
    if hours > 14 or minutes > 59:
        return False
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if match[1] == "-" else delta)


def parse_column(values: list[str], naive_tz: tzinfo | None = None) -> tuple[list[pd.Timestamp | None], str]:
    """Parse a whole column with one date order; returns the stamps and the order used."""
    order = column_date_order(values)
    return [parse_timestamp(v, order, naive_tz) for v in values], order
