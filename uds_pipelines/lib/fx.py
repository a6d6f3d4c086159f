"""Currencies: minor units, and exchange rates to the reporting currency (docs/currencies.md).

Stripe amounts are integers in the currency's minor unit; zero-decimal currencies (JPY, KRW, ...)
have none, so 1500 is 1500 yen, not 15.00, and three-decimal ones (KWD, BHD, ...) count
thousandths. Every figure in a currency is rounded to that currency's decimals.

Rates come from one CSV file (`UDS_FX_RATES`) of `currency,rate,date` rows: `rate` is units of the
reporting currency (`UDS_REPORTING_CURRENCY`) per one unit of `currency` on `date`. A figure as of
a day uses, per currency, the newest rate on or before that day: never a rate from after it, so
rerunning an old "as of" gives the old figure. The file must list the reporting currency itself at
rate 1: that line is what says which currency the rates are to, so a file of rates to USD is never
read as rates to EUR.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

# Stripe's zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal), lower-case
# as staging stores them.
ZERO_DECIMAL = (
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
    "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
)  # fmt: skip
# Stripe's three-decimal currencies: amounts in thousandths (12345 is 12.345 KWD).
THREE_DECIMAL = ("bhd", "jod", "kwd", "omr", "tnd")
HEADER = ("currency", "rate", "date")
_CODE = re.compile(r"[A-Za-z]{3}")


class RatesError(ValueError):
    """The rates file cannot be used; the message says where and why."""


def decimals(currency: str | None) -> int:
    """Digits after the point in `currency`'s major unit as Stripe counts them (0 for JPY, 3 for KWD)."""
    code = (currency or "").lower()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def minor_divisor_sql(currency_column: str) -> str:
    """SQL for the number of Stripe minor units in one major unit of `currency_column`."""
    zero, three = (", ".join(f"'{c}'" for c in codes) for codes in (ZERO_DECIMAL, THREE_DECIMAL))
    return f"(CASE WHEN lower({currency_column}) IN ({zero}) THEN 1.0 WHEN lower({currency_column}) IN ({three}) THEN 1000.0 ELSE 100.0 END)"


def round_sql(amount_sql: str, currency_column: str) -> str:
    """SQL rounding an amount to its currency's decimals (DuckDB's round takes a constant precision)."""
    three = ", ".join(f"'{c}'" for c in THREE_DECIMAL)
    return f"(CASE WHEN lower({currency_column}) IN ({three}) THEN round({amount_sql}, 3) ELSE round({amount_sql}, 2) END)"


def reporting_code(value: str | None) -> str:
    """An ISO 4217 code, upper-case; raises RatesError for anything else."""
    code = (value or "").strip()
    if not _CODE.fullmatch(code):
        raise RatesError(f"{value!r} is not a three-letter ISO 4217 currency code such as USD")
    return code.upper()


@dataclass(frozen=True)
class FxRates:
    """Rates to `reporting` (upper-case); `rates` maps lower-case currency -> {date: rate}."""

    reporting: str
    rates: Mapping[str, Mapping[date, float]]

    def on(self, day: date) -> dict[str, tuple[float, date]]:
        """Per lower-case currency, the newest (rate, date) on or before `day`; a currency whose
        rates all come later has none. The reporting currency is 1 on any day."""
        found: dict[str, tuple[float, date]] = {}
        for currency, dated in self.rates.items():
            earlier = [d for d in dated if d <= day]
            if earlier:
                found[currency] = (dated[max(earlier)], max(earlier))
        found.setdefault(self.reporting.lower(), (1.0, day))
        return found


def parse_rates(text: str, reporting: str) -> FxRates:
    """Read a `currency,rate,date` CSV (lines starting with `#` are comments) of rates to `reporting`."""
    reporting = reporting_code(reporting)
    lines = [
        (n, line)
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise RatesError("the file is empty: expected the header currency,rate,date and one row per rate")
    header = tuple(h.strip().lower() for h in next(csv.reader([lines[0][1]])))
    if header != HEADER:
        raise RatesError(
            f"line {lines[0][0]}: the header must be currency,rate,date, not {lines[0][1].strip()!r}"
        )
    rates: dict[str, dict[date, float]] = {}
    for number, line in lines[1:]:
        currency, rate, day = _row(number, line)
        dated = rates.setdefault(currency, {})
        if day in dated:
            raise RatesError(f"line {number}: {currency.upper()} on {day} is given twice")
        dated[day] = rate
    own = rates.get(reporting.lower())
    if not own:
        raise RatesError(
            f"no row for {reporting} (UDS_REPORTING_CURRENCY): the file must list {reporting},1,<date>, "
            f"which says its rates are units of {reporting} per unit of each currency"
        )
    wrong = sorted({rate for rate in own.values() if rate != 1.0})
    if wrong:
        ones = sorted(c.upper() for c, dated in rates.items() if set(dated.values()) == {1.0})
        base = f" (the file lists {', '.join(ones)} at rate 1)" if ones else ""
        raise RatesError(
            f"{reporting} is the reporting currency, so its rate must be 1, not {wrong[0]:g}: "
            f"these rates are to another currency{base}"
        )
    return FxRates(reporting, rates)


def _row(number: int, line: str) -> tuple[str, float, date]:
    fields = [f.strip() for f in next(csv.reader(io.StringIO(line)))]
    if len(fields) != 3:
        raise RatesError(f"line {number}: expected 3 fields (currency,rate,date), found {len(fields)}")
    currency, rate_text, day_text = fields
    if not _CODE.fullmatch(currency):
        raise RatesError(f"line {number}: {currency!r} is not a three-letter currency code")
    try:
        rate = Decimal(rate_text)
    except InvalidOperation:
        raise RatesError(f"line {number}: rate {rate_text!r} is not a number") from None
    if not rate.is_finite() or rate <= 0:
        raise RatesError(f"line {number}: rate {rate_text!r} must be a positive number")
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise RatesError(f"line {number}: date {day_text!r} is not an ISO date such as 2026-10-30") from None
    return currency.lower(), float(rate), day


def load_rates(path: Path, reporting: str) -> FxRates:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RatesError(f"cannot read the file: {exc}") from None
    return parse_rates(text, reporting)


def from_env(env: Mapping[str, str], default_file: Path) -> tuple[str, Path]:
    """(`UDS_REPORTING_CURRENCY`, `UDS_FX_RATES`), the file read once so a bad one fails at start;
    RatesError messages name the variable."""
    raw = env.get("UDS_REPORTING_CURRENCY") or "USD"
    try:
        reporting = reporting_code(raw)
    except RatesError as exc:
        raise RatesError(f"UDS_REPORTING_CURRENCY={raw!r}: {exc}") from None
    value = env.get("UDS_FX_RATES")
    path = Path(value).expanduser().resolve() if value else default_file
    if not path.is_file():
        raise RatesError(f"UDS_FX_RATES={str(value or path)!r}: no such file")
    try:
        load_rates(path, reporting)
    except RatesError as exc:
        raise RatesError(f"UDS_FX_RATES={str(path)!r}: {exc}") from None
    return reporting, path


def rates_sql(rates: Mapping[str, float]) -> str:
    """A relation `(currency VARCHAR lower-case, rate DOUBLE)` of `rates` (codes are validated letters)."""
    if not rates:
        return "SELECT NULL::VARCHAR AS currency, NULL::DOUBLE AS rate WHERE false"
    values = ", ".join(
        f"('{c.lower()}', {float(r)!r}::DOUBLE)" for c, r in sorted(rates.items()) if _CODE.fullmatch(c)
    )
    return f"SELECT * FROM (VALUES {values}) AS fx(currency, rate)"
