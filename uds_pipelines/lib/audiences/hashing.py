"""SHA-256 of normalized emails and phones for the generic `hashed` format (Google Customer Match style).

Email: trimmed and lower-cased, then SHA-256 hex. Phone: E.164 *with* the leading '+'
(`+14155550123`), which is Google Customer Match's convention and what the `hashed` format's
contract documents. Meta and TikTok want the digits without '+' (`14155550123`): the
`meta_custom_audience` format hashes that form (see `destinations.py`), and `hash_phone_digits`
gives it in Python so an erasure can find such rows. Google's optional rule of dropping dots
from gmail.com local parts is not applied: the contract hashes the lower-case email as is.
The Python and SQL forms give identical results.
"""

from __future__ import annotations

import hashlib
import re

_NON_DIGITS = re.compile(r"[^0-9]")
# The same characters in Python and SQL, so both forms hash the same string.
_SPACE = " \t\n\v\f\r"
_SQL_SPACE = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"


def normalize_email(value: object) -> str | None:
    if value is None or not isinstance(value, str):
        return None
    text = value.strip(_SPACE).lower()
    return text or None


def normalize_phone(value: object) -> str | None:
    """An E.164 phone as `+<digits>`; profiles already hold E.164, this only strips formatting."""
    if value is None or not isinstance(value, str):
        return None
    digits = _NON_DIGITS.sub("", value)
    return f"+{digits}" if digits else None


def normalize_phone_digits(value: object) -> str | None:
    """Meta's phone form: digits only, country code kept, no '+' and no leading zeros."""
    if value is None or not isinstance(value, str):
        return None
    digits = _NON_DIGITS.sub("", value).lstrip("0")
    return digits or None


def sha256_hex(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


def hash_email(value: object) -> str | None:
    return sha256_hex(normalize_email(value))


def hash_phone(value: object) -> str | None:
    return sha256_hex(normalize_phone(value))


def hash_phone_digits(value: object) -> str | None:
    return sha256_hex(normalize_phone_digits(value))


def email_sha256_sql(column: str) -> str:
    """DuckDB expression equal to `hash_email(column)`."""
    normalized = f"lower(trim({column}, {_SQL_SPACE}))"
    return f"CASE WHEN {normalized} <> '' THEN sha256({normalized}) END"


def phone_sha256_sql(column: str) -> str:
    """DuckDB expression equal to `hash_phone(column)`."""
    digits = f"regexp_replace({column}, '[^0-9]', '', 'g')"
    return f"CASE WHEN {digits} <> '' THEN sha256('+' || {digits}) END"
