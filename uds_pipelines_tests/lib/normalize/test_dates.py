"""Birth dates: ISO and numeric day/month text to a date, never a guess between day-first and month-first."""

from datetime import date, timedelta

import pytest

from uds_pipelines.lib.normalize import normalize_birth_date
from uds_pipelines.lib.normalize.dates import birth_date_iso


@pytest.mark.parametrize(
    ("raw", "order", "expected"),
    [
        ("1979-12-05", None, date(1979, 12, 5)),
        (" 1979-12-05 ", "mdy", date(1979, 12, 5)),  # ISO ignores the declared order
        ("1979/12/5", None, date(1979, 12, 5)),
        ("1979-12-05T00:00:00Z", None, date(1979, 12, 5)),
        ("1979-12-05 00:00:00", None, date(1979, 12, 5)),
        ("25/12/1979", None, date(1979, 12, 25)),  # only day-first is a date
        ("12/25/1979", None, date(1979, 12, 25)),  # only month-first is a date
        ("25.12.1979", None, date(1979, 12, 25)),
        ("07/07/1979", None, date(1979, 7, 7)),  # both readings are the same day
        ("05/12/1979", "dmy", date(1979, 12, 5)),
        ("05/12/1979", "mdy", date(1979, 5, 12)),
        ("5 Dec 1979", None, date(1979, 12, 5)),
        ("December 5, 1979", None, date(1979, 12, 5)),
        ("Dec 5th 1979", None, date(1979, 12, 5)),
    ],
)
def test_readable_dates(raw: str, order: str | None, expected: date) -> None:
    assert normalize_birth_date(raw, order) == expected


@pytest.mark.parametrize(
    ("raw", "order"),
    [
        ("05/12/1979", None),  # 5 December or May 12: no declared order, no guess
        ("31/02/1979", "dmy"),  # no such day
        ("13/13/1979", None),
        ("05/12/79", "dmy"),  # two-digit year: which century?
        ("1850-01-01", None),  # not a living person's birth date
        ((date.today() + timedelta(days=1)).isoformat(), None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_unreadable_or_ambiguous_dates_give_none(raw: str | None, order: str | None) -> None:
    assert normalize_birth_date(raw, order) is None


def test_iso_text_for_sql_and_order_is_checked() -> None:
    assert birth_date_iso("25/12/1979") == "1979-12-25"
    assert birth_date_iso("05/12/1979") is None
    with pytest.raises(ValueError, match="order"):
        normalize_birth_date("05/12/1979", "ymd")
