"""Phone numbers to E.164 with `phonenumbers`; invalid numbers get a reason, never a guess."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from uds_pipelines.lib.normalize.country import normalize_country

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalid country code",
    NumberParseException.NOT_A_NUMBER: "not a number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_POSSIBLE_REASONS = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_COUNTRY_CODE: "invalid country code",
    ValidationResult.INVALID_LENGTH: "invalid length",
}
# "00" is the international prefix almost everywhere; phonenumbers only knows it for regions
# whose own prefix is 00, so a "0044..." typed into a US form would otherwise be misread.
_IDD_00 = re.compile(r"^00(?=[1-9])")
_TRUNK_ZERO = re.compile(r"\(\s*0\s*\)")
# An international number whose "+" was lost: Webflow posts phone fields as JSON numbers
# (15550000000), spreadsheets drop the sign. Only bare digit strings of 11-15 digits not starting
# with 0 qualify: shorter ones are more likely national numbers, and a leading 0 is a trunk prefix.
_BARE_INTERNATIONAL = re.compile(r"[1-9][0-9]{10,14}")


@dataclass(frozen=True)
class PhoneResult:
    """`region` is the number's own region when valid, else the region it was read against."""

    original: str | None
    e164: str | None
    region: str | None
    reason: str | None
    extension: str | None = None


def _looks_fake(digits: str) -> bool:
    """Placeholders people type into forms: one repeated digit or a straight run."""
    if len(digits) < 7:
        return False  # short input gets the more useful "too short" from phonenumbers
    if len(set(digits)) == 1:
        return True
    return digits in "01234567890123456789" or digits in "98765432109876543210"


def _prepare(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()
    if text.lower().startswith("tel:"):
        text = text[4:].strip()
    compact = re.sub(r"[\s.\-()/]", "", text)
    if _IDD_00.match(compact):
        text = "+" + text.lstrip()[2:].lstrip()
    if text.startswith("+"):
        text = _TRUNK_ZERO.sub(" ", text)
    return text


def _region_for(country: str | None, default_region: str) -> str:
    region = normalize_country(country) if country else None
    return region or (default_region or "US").upper()


def _without_plus(text: str) -> phonenumbers.PhoneNumber | None:
    """`text` read as an international number missing its "+", when that reading is valid.

    Asked only after the national reading failed, so a number valid where the record says it lives
    is never re-read."""
    if not _BARE_INTERNATIONAL.fullmatch(text):
        return None
    try:
        number = phonenumbers.parse("+" + text, None)
    except NumberParseException:
        return None
    if _looks_fake(str(number.national_number)) or not phonenumbers.is_valid_number(number):
        return None
    return number


@lru_cache(maxsize=262_144)
def normalize_phone(raw: str | None, country: str | None = None, default_region: str = "US") -> PhoneResult:
    """E.164 for `raw`, read against the record's country (alpha-2 or a name), else `default_region`.

    A bare digit string that is invalid there but valid with a "+" in front (`447400123456`) is
    taken as that international number."""
    if raw is None or not isinstance(raw, str) or not raw.strip():
        return PhoneResult(raw, None, None, "missing")
    region = _region_for(country, default_region)
    text = _prepare(raw)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        return PhoneResult(raw, None, region, _PARSE_REASONS.get(error.error_type, "not a number"))
    extension = number.extension or None
    if extension:
        number.extension = None
    read_as = phonenumbers.region_code_for_country_code(number.country_code)
    read_as = region if read_as in (None, "ZZ", "001") else read_as
    typed = "".join(c for c in text if c.isdigit())
    typed = typed[: -len(extension)] if extension and typed.endswith(extension) else typed
    if _looks_fake(str(number.national_number)) or _looks_fake(typed):
        return PhoneResult(raw, None, read_as, "placeholder number", extension)
    # phonenumbers' is_valid_number, with the number's region kept: finding it is half the cost
    # of validating a number (a NANP number is tried against each of its 25 regions' patterns)
    number_region = phonenumbers.region_code_for_number(number)
    if not phonenumbers.is_valid_number_for_region(number, number_region):
        plus = _without_plus(text)
        if plus is not None:
            e164 = phonenumbers.format_number(plus, PhoneNumberFormat.E164)
            return PhoneResult(raw, e164, phonenumbers.region_code_for_number(plus), None, extension)
        possible = phonenumbers.is_possible_number_with_reason(number)
        reason = _POSSIBLE_REASONS.get(possible) or f"invalid number for region {read_as}"
        return PhoneResult(raw, None, read_as, reason, extension)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return PhoneResult(raw, e164, number_region, None, extension)


def normalize_phones(
    phones: pd.Series, countries: pd.Series | None = None, default_region: str = "US"
) -> pd.DataFrame:
    """One row per phone (same index): original, e164, region, reason, extension."""
    values = phones.tolist()
    regions = countries.tolist() if countries is not None else [None] * len(values)
    results = [
        normalize_phone(p if isinstance(p, str) else None, c if isinstance(c, str) else None, default_region)
        for p, c in zip(values, regions, strict=True)
    ]
    # object columns keep None (not NaN) so callers can test `is None` and write real Parquet nulls
    columns = {
        name: pd.Series([getattr(r, name) for r in results], index=phones.index, dtype=object)
        for name in PhoneResult.__dataclass_fields__
    }
    frame = pd.DataFrame(columns, index=phones.index)
    frame["original"] = phones
    return frame
