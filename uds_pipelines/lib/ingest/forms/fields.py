"""Field-name matching, value coercion and the per-submission builder shared by all form providers."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from uds_pipelines.lib.ingest.external_ids import external_id_value, is_external_id_field

# Normalized key (lower-case, letters and digits only) -> our column. "name" is split later.
_ALIASES: dict[str, list[str]] = {
    "email": ["email", "emailaddress", "mail", "youremail", "workemail", "businessemail", "emailid"],
    "phone": [
        "phone",
        "phonenumber",
        "telephone",
        "tel",
        "mobile",
        "mobilephone",
        "mobilenumber",
        "cellphone",
    ],
    "first_name": ["firstname", "fname", "givenname", "forename", "yourfirstname"],
    "last_name": ["lastname", "lname", "surname", "familyname", "yourlastname"],
    "name": ["name", "fullname", "yourname", "contactname"],
    "country": ["country", "countrycode", "countryregion"],
    "date_of_birth": ["dateofbirth", "dob", "birthdate", "birthday"],
    "address_line1": ["addressline1", "address1", "address", "streetaddress", "street"],
    "city": ["city", "town"],
    "postcode": ["postcode", "postalcode", "zip", "zipcode"],
    "utm_source": ["utmsource"],
    "utm_medium": ["utmmedium"],
    "utm_campaign": ["utmcampaign"],
    "utm_term": ["utmterm"],
    "utm_content": ["utmcontent"],
}
ALIAS_TO_COLUMN = {alias: column for column, aliases in _ALIASES.items() for alias in aliases}
# Webflow numbers repeated fields ("Email 2"); only these columns may be matched that way.
_NUMBERED_OK = {"email", "phone", "name", "first_name", "last_name"}

TRUE_WORDS = {"true", "yes", "y", "1", "on", "t", "checked", "granted"}
FALSE_WORDS = {"false", "no", "n", "0", "off", "f", "unchecked", "denied"}
CONSENT_WORDS = re.compile(r"consent|newsletter|marketing|opt.?in|subscribe", re.IGNORECASE)


@lru_cache(maxsize=8192)
def normalize_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


@lru_cache(maxsize=8192)  # the same few field names repeat on every submission
def column_for_key(key: str) -> str | None:
    """Our column for a source field name, tolerant of case, spacing and punctuation."""
    norm = normalize_key(key)
    if norm in ALIAS_TO_COLUMN:
        return ALIAS_TO_COLUMN[norm]
    stripped = norm.rstrip("0123456789")
    column = ALIAS_TO_COLUMN.get(stripped)
    return column if column in _NUMBERED_OK else None


@lru_cache(maxsize=8192)
def consent_purpose_for_key(key: str) -> str | None:
    """`consent_email_marketing` / "Consent: SMS marketing" -> the purpose; None for other keys."""
    snake = re.sub(r"[^a-z0-9]+", "_", str(key).lower()).strip("_")
    if not snake.startswith("consent_") or snake == "consent_":
        return None
    return snake[len("consent_") :]


@lru_cache(maxsize=8192)
def infer_purpose(text: str) -> str:
    """Purpose of a consent question from its wording; email marketing unless it says otherwise."""
    lowered = text.lower()
    if re.search(r"\bsms\b|text message|whatsapp|\btexts?\b", lowered):
        return "sms_marketing"
    if re.search(r"\bads?\b|advertis|ad.targeting|retarget", lowered):
        return "ad_targeting"
    if re.search(r"analytic|tracking", lowered):
        return "analytics"
    return "email_marketing"


def parse_bool(value: Any) -> bool | None:
    """True/False from the usual checkbox spellings; None when it is not clearly one of them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}


def as_text(value: Any) -> str | None:
    """Column values are text, raw as given; numbers (Webflow phones) keep their digits."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def parse_timestamp(value: Any) -> pd.Timestamp | None:
    """UTC timestamp from ISO text or epoch seconds/milliseconds (number or digit string)."""
    if is_blank(value) or isinstance(value, bool):
        return None
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
            number = float(text)
            stamp = pd.Timestamp(number, unit="ms" if number > 1e11 else "s", tz="UTC")
        elif re.search(r"\d{4}", text):
            stamp = pd.Timestamp(text)
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        else:
            return None
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return None
    if pd.isna(stamp) or not 1971 <= stamp.year <= 2200:
        return None
    return stamp


def canonical_json(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def stable_submission_id(payload: Any) -> str:
    """`frm_` + 24 hex of the payload's canonical JSON: the same payload always gets the same id."""
    return "frm_" + hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()[:24]


def split_name(full: str) -> tuple[str, str | None]:
    """Split on the last space: "Ursula K. Le Guin" -> ("Ursula K. Le", "Guin")."""
    head, _, tail = full.strip().rpartition(" ")
    return (head.strip(), tail) if head.strip() else (full.strip(), None)


@dataclass
class Submission:
    """What a provider extracted from one payload, before it becomes a row and consent statements."""

    provider: str
    # The source fields that hold an app's user id (`Settings.external_id_fields`).
    external_id_fields: Sequence[str]
    submission_id: str | None = None
    form_id: str | None = None
    submitted_at: pd.Timestamp | None = None
    columns: dict[str, str | None] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    consents: list[tuple[str, bool, str | None]] = field(default_factory=list)  # purpose, granted, note
    notes: list[str] = field(default_factory=list)
    full_name: str | None = None

    def set_column(self, column: str, value: Any, key: str) -> None:
        """First non-blank value wins; a second value for the same column is kept in fields_json."""
        text = as_text(value)
        if text is None:
            return
        if column == "name":
            if self.full_name is None:
                self.full_name = text
                return
        elif self.columns.get(column) is None:
            self.columns[column] = text
            return
        self.fields[key] = value

    def note_external_id(self, key: Any, value: Any) -> None:
        """Copy the first non-blank value of a field named like an app's user id to `external_id`;
        the field itself stays where it is kept (fields_json, `_hidden`)."""
        if self.columns.get("external_id") is None and is_external_id_field(key, self.external_id_fields):
            text = external_id_value(value)
            if text is not None:
                self.columns["external_id"] = text

    def add_field(self, key: str, value: Any) -> None:
        """Route one named source field: a known column, a consent checkbox, or fields_json."""
        self.note_external_id(key, value)
        purpose = consent_purpose_for_key(key)
        if purpose is not None:
            granted = parse_bool(value)
            if granted is not None:
                self.consents.append((purpose, granted, None))
            elif not is_blank(value):
                self.notes.append(f"consent value for {key} not understood: statement skipped")
                self.fields[key] = value
            return
        column = column_for_key(key)
        if column is not None:
            self.set_column(column, value, key)
            return
        if CONSENT_WORDS.search(str(key)) and parse_bool(value) is not None:
            self.consents.append((infer_purpose(str(key)), bool(parse_bool(value)), None))
        self.fields[key] = value

    def has_usable_fields(self) -> bool:
        return (
            bool(self.full_name) or any(v is not None for v in self.columns.values()) or bool(self.consents)
        )

    def finish_names(self) -> None:
        """Fill first/last from a full name only where the source gave no separate parts."""
        first, last = self.columns.get("first_name"), self.columns.get("last_name")
        if self.full_name and first is None and last is None:
            self.columns["first_name"], self.columns["last_name"] = split_name(self.full_name)
        elif self.full_name and (first, last) != (None, None):
            self.fields.setdefault("name", self.full_name)
