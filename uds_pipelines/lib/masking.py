"""Masking of personal data for anything that reaches Dagster's event log (previews, logs)."""

from __future__ import annotations

import re

import pandas as pd

from uds_pipelines.lib import catalog

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
PHONE_RE = re.compile(r"(?<![\w])\+?\d[\d\s().\-]{6,}\d")

# Columns whose values are personal data and must be masked in previews.
EMAIL_COLUMNS = {"email", "email_raw", "email_normalized", "respondent_email", "customer_email"}
PHONE_COLUMNS = {"phone", "phone_raw", "phone_e164"}
NAME_COLUMNS = {
    "first_name",
    "last_name",
    "name",
    "full_name",
    "respondent_name",
    "address_line1",
    "postcode",
}
# Free text and quasi-identifiers: never previewed at all (names can hide in any free text).
DROP_COLUMNS = {
    "raw",
    "payload",
    "answer",
    "identifier",
    "identifier_value",
    "date_of_birth",
    "fields_json",
    "city",
    "question_text",
    "id_value",
}
# Every other column the catalog declares personal (external ids, hashes, the erasure subject, ...)
# is dropped too: a preview never shows personal data the masks above were not written for.
DROP_COLUMNS |= {c for t in catalog.TABLES.values() for c in t.personal} - EMAIL_COLUMNS - PHONE_COLUMNS - NAME_COLUMNS


def _mask_word(word: str) -> str:
    return (word[0] + "***") if word else ""


def mask_email(value: object) -> str | None:
    """`jane.doe@example.com` -> `j***@e***.com`."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    if "@" not in text:
        return _mask_word(text)
    local, _, domain = text.rpartition("@")
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{_mask_word(host)}.{tld}" if dot else _mask_word(domain)
    return f"{_mask_word(local)}@{masked_domain}"


def mask_phone(value: object) -> str | None:
    """`+14155550123` -> `+1*******23`: keeps the country hint and the last two digits."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value)
    digits = [c for c in text if c.isdigit()]
    if len(digits) <= 4:
        return "*" * len(digits)
    prefix = "+" + digits[0] if text.strip().startswith("+") else digits[0]
    return prefix + "*" * (len(digits) - 3) + "".join(digits[-2:])


def mask_name(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return " ".join(_mask_word(part) for part in str(value).split())


def mask_text(text: str) -> str:
    """Mask every email- or phone-looking substring of free text (log lines, error reasons)."""
    text = EMAIL_RE.sub(lambda m: mask_email(m.group(0)) or "", text)
    return PHONE_RE.sub(lambda m: mask_phone(m.group(0)) or "", text)


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` safe for a metadata preview: personal columns masked, raw content dropped."""
    out = frame.drop(columns=[c for c in frame.columns if c in DROP_COLUMNS]).copy()
    for column in out.columns:
        if column in EMAIL_COLUMNS:
            out[column] = out[column].map(mask_email)
        elif column in PHONE_COLUMNS:
            out[column] = out[column].map(mask_phone)
        elif column in NAME_COLUMNS:
            out[column] = out[column].map(mask_name)
        elif out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(lambda v: mask_text(v) if isinstance(v, str) else v)
    return out


def preview_markdown(frame: pd.DataFrame, rows: int = 10) -> str:
    """A masked markdown preview of the first rows of `frame` (missing values shown empty)."""
    if frame.empty:
        return "_no rows_"
    masked = mask_frame(frame.head(rows)).astype(object)
    masked = masked.where(masked.notna(), "")
    return masked.to_markdown(index=False) if _has_tabulate() else masked.to_string(index=False)


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True
