"""Email addresses: validated normalized form and a match key for identity resolution."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from uds_pipelines.lib.masking import mask_text

# Gmail ignores dots in the local part and treats googlemail.com as gmail.com.
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_DISPLAY_NAME = re.compile(r"^[^<>]*<([^<>]+)>$")


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


@lru_cache(maxsize=262_144)
def normalize_email(raw: str | None) -> EmailResult:
    """Validate without network access; the domain is kept in its Unicode form, lower-cased.

    IDNA domains are stored as Unicode (`jane@bücher.de`, not `xn--bcher-kva.de`) because that is
    email-validator's normalized form and both spellings then share one key. The local part is
    lower-cased too: providers treat it case-insensitively in practice, and matching needs that.
    """
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
