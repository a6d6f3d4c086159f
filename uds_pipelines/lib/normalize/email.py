"""Email addresses: validated normalized form and a match key for identity resolution."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
from email_validator import EmailNotValidError, validate_email

from uds_pipelines.lib.masking import mask_text

# Gmail ignores dots in the local part and treats googlemail.com as gmail.com.
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_DISPLAY_NAME = re.compile(r"^[^<>]*<([^<>]+)>$")
# Plain ASCII addresses that email-validator accepts unchanged except for case: the normalized
# form is then just lower(), in Python and in SQL (duckdb_udfs). Anything else (Unicode, IDNA,
# display names, odd syntax) goes through the validator.
_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
FAST_EMAIL_PATTERN = rf"{_ATEXT}+(\.{_ATEXT}+)*@({_LABEL}\.)+[a-z]{{2,63}}"
# ASCII flag: with IGNORECASE alone, [a-z] would also match the Kelvin sign and the long s.
_FAST_EMAIL = re.compile(FAST_EMAIL_PATTERN, re.IGNORECASE | re.ASCII)
# email-validator refuses special-use domains.
SPECIAL_TLDS = ("arpa", "invalid", "local", "localhost", "onion", "test")


@dataclass(frozen=True)
class EmailResult:
    """`normalized` is the stored/exported form; `match_key` is only for matching people."""

    original: str | None
    normalized: str | None
    match_key: str | None
    valid: bool
    reason: str | None


def _reason_from_error(error: EmailNotValidError, local: str, domain: str) -> str:
    """email-validator's message without any part of the address in it."""
    message = str(error).split(":", 1)[0]
    message = re.sub(r"\s*\([^)]*\)", "", message).strip().rstrip(".")
    lowered = message.lower()
    leaks = [part.lower() for part in (local, domain) if len(part) >= 2]
    if not message or any(part in lowered for part in leaks):
        return "invalid email syntax"
    return mask_text(message[0].lower() + message[1:])


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw).strip()
    if text.lower().startswith("mailto:"):
        text = text[7:].strip()
    match = _DISPLAY_NAME.match(text)
    return match.group(1).strip() if match else text


def email_match_key(normalized: str) -> str:
    """Fold `+tags` everywhere and Gmail dots/googlemail; input must be a normalized address."""
    local, _, domain = normalized.rpartition("@")
    base = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        base = base.replace(".", "") or base
        domain = "gmail.com"
    return f"{base}@{domain}"


def is_plain_ascii_email(text: str) -> bool:
    """True when email-validator would accept `text` unchanged apart from case (SQL mirrors this)."""
    if len(text) > 254 or "--" in text or not _FAST_EMAIL.fullmatch(text):
        return False
    local, _, domain = text.rpartition("@")
    return len(local) <= 64 and domain.rpartition(".")[2].lower() not in SPECIAL_TLDS


@lru_cache(maxsize=262_144)
def normalize_email(raw: str | None) -> EmailResult:
    """Validate without network access; the domain is kept in its Unicode form, lower-cased.

    IDNA domains are stored as Unicode (`jane@bücher.de`, not `xn--bcher-kva.de`) because that is
    email-validator's normalized form and both spellings then share one key. The local part is
    lower-cased too: providers treat it case-insensitively in practice, and matching needs that.
    Plain ASCII addresses skip the validator (about 70 us each); tests check both paths agree.
    """
    if isinstance(raw, str):
        text = raw.strip()
        if is_plain_ascii_email(text):
            normalized = text.lower()
            return EmailResult(raw, normalized, email_match_key(normalized), True, None)
    return normalize_email_strict(raw)


def normalize_email_strict(raw: str | None) -> EmailResult:
    """`normalize_email` always through email-validator (uncached); the reference for the fast paths."""
    if raw is None or not isinstance(raw, str):
        return EmailResult(None, None, None, False, "missing")
    text = _clean(raw)
    if not text:
        return EmailResult(raw, None, None, False, "missing")
    if "@" not in text:
        return EmailResult(raw, None, None, False, "missing @-sign")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        local, _, domain = text.rpartition("@")
        return EmailResult(raw, None, None, False, _reason_from_error(error, local, domain))
    except Exception:  # noqa: BLE001 - IDNA edge cases raise outside the library's hierarchy
        return EmailResult(raw, None, None, False, "invalid email syntax")
    normalized = f"{checked.local_part.lower()}@{checked.domain.lower()}"
    return EmailResult(raw, normalized, email_match_key(normalized), True, None)


def normalize_emails(series: pd.Series) -> pd.DataFrame:
    """One row per input value (same index): original, normalized, match_key, valid, reason."""
    results = [normalize_email(v if isinstance(v, str) else None) for v in series.tolist()]
    # object columns keep None (not NaN) so callers can test `is None` and write real Parquet nulls
    columns = {
        name: pd.Series([getattr(r, name) for r in results], index=series.index, dtype=object)
        for name in EmailResult.__dataclass_fields__
    }
    frame = pd.DataFrame(columns, index=series.index)
    frame["original"] = series
    return frame.astype({"valid": bool})
