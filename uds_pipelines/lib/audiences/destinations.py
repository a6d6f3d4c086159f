"""Ad-platform customer-list formats: one declarative table per destination.

Each row of a table is one column of the platform's file: the header exactly as the platform
documents it, the profile column it comes from (None: the profile has no such attribute, so the
platform column stays empty, which both platforms accept for optional columns), the normalizer the
platform prescribes, and whether the value is SHA-256 hashed or sent in clear. A new destination
(TikTok, LinkedIn, ...) is one more table here plus its name in `definitions.FORMATS`.

Normalizers are DuckDB expressions so a whole audience is normalized and hashed in one query;
`{x}` stands for the source column. Each turns an empty result into NULL (an empty cell).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    header: str  # the platform's column header, verbatim
    source: str | None  # customer_profiles column; None: not a profile attribute, written empty
    normalizer: str  # key of NORMALIZERS
    hashed: bool  # SHA-256 hex of the normalized value, else the normalized value in clear


# Why each rule: the platform docs cited in docs/activation.md and in the tests.
NORMALIZERS: dict[str, str] = {
    # trim and lower-case (Meta EMAIL; Google also removes inner spaces, which valid emails lack)
    "email": "regexp_replace(lower({x}), '[\\s\\v]', '', 'g')",
    # E.164 with '+' (Google): profiles hold E.164 already; formatting characters are dropped
    "phone_e164": "'+' || nullif(regexp_replace({x}, '[^0-9]', '', 'g'), '')",
    # digits with the country code, no '+', no leading zeros (Meta, TikTok)
    "phone_digits": "ltrim(regexp_replace({x}, '[^0-9]', '', 'g'), '0')",
    # Google names: lower-case, no spaces before, after or in between; accents kept
    "name_google": "regexp_replace(lower({x}), '\\s', '', 'g')",
    # Meta names and city: lower-case letters only (no punctuation or spaces); accents kept (UTF-8)
    "letters_lower": "regexp_replace(lower({x}), '[^\\pL\\pM]', '', 'g')",
    # ISO 3166-1 alpha-2: in clear upper-case for Google, lower-case (then hashed) for Meta
    "country_upper": "CASE WHEN regexp_full_match(upper(trim({x})), '[A-Z]{{2}}') THEN upper(trim({x})) END",
    "country_lower": "CASE WHEN regexp_full_match(lower(trim({x})), '[a-z]{{2}}') THEN lower(trim({x})) END",
    # Google Zip in clear: trimmed as written (US 5 digits or ZIP+4, elsewhere without extension)
    "zip_clear": "trim({x})",
    # Meta zip: lower-case, no spaces or dashes
    "zip_meta": "regexp_replace(lower({x}), '[\\s\\-]', '', 'g')",
    # Meta dob: YYYYMMDD
    "date_yyyymmdd": "strftime(TRY_CAST({x} AS DATE), '%Y%m%d')",
    # our own id, verbatim (Meta extern_id is not hashed)
    "verbatim": "{x}",
}

GOOGLE_CUSTOMER_MATCH: tuple[Field, ...] = (
    Field("Email", "email", "email", True),
    Field("Phone", "phone", "phone_e164", True),
    Field("First Name", "first_name", "name_google", True),
    Field("Last Name", "last_name", "name_google", True),
    Field("Country", "country", "country_upper", False),
    Field("Zip", None, "zip_clear", False),  # no postcode on profiles yet
)

META_CUSTOM_AUDIENCE: tuple[Field, ...] = (
    Field("email", "email", "email", True),
    Field("phone", "phone", "phone_digits", True),
    Field("fn", "first_name", "letters_lower", True),
    Field("ln", "last_name", "letters_lower", True),
    Field("zip", None, "zip_meta", True),  # person records carry postcode, profiles do not yet
    Field("ct", None, "letters_lower", True),  # likewise city
    Field("country", "country", "country_lower", True),
    Field("dob", None, "date_yyyymmdd", True),  # likewise date of birth
    Field("extern_id", "customer_id", "verbatim", False),
)

DESTINATION_FORMATS: dict[str, tuple[Field, ...]] = {
    "google_customer_match": GOOGLE_CUSTOMER_MATCH,
    "meta_custom_audience": META_CUSTOM_AUDIENCE,
}

# A row is written only when one of these columns has a value. Google's file carries no id of
# ours, so an erasure finds a Google row by the person's email or phone hash; address matching
# would also need Zip, which profiles do not have. Meta rows always carry extern_id.
MATCH_KEYS: dict[str, tuple[str, ...]] = {"google_customer_match": ("Email", "Phone")}


def value_sql(field: Field) -> str:
    """DuckDB expression for one file cell, NULL (empty) when there is nothing to send."""
    if field.source is None:
        return "CAST(NULL AS VARCHAR)"
    normalized = NORMALIZERS[field.normalizer].format(x=f"CAST({field.source} AS VARCHAR)")
    cell = f"nullif({normalized}, '')"
    return f"sha256({cell})" if field.hashed else cell


def select_sql(fmt: str) -> str:
    """`customer_id` (kept for checks and ordering, never written) and the file's columns."""
    cells = ", ".join(f'{value_sql(f)} AS "{f.header}"' for f in DESTINATION_FORMATS[fmt])
    return f"customer_id, {cells}"


def file_columns(fmt: str) -> list[str]:
    return [f.header for f in DESTINATION_FORMATS[fmt]]


def hashed_columns(fmt: str) -> list[str]:
    return [f.header for f in DESTINATION_FORMATS[fmt] if f.hashed]


def clear_columns(fmt: str) -> list[str]:
    """Cells written as text (formula-neutralized in the CSV), except our own id."""
    return [f.header for f in DESTINATION_FORMATS[fmt] if not f.hashed and f.source != "customer_id"]


def match_key_sql(fmt: str) -> str:
    """SQL condition over the selected cells: the row has something the platform can match on."""
    keys = MATCH_KEYS.get(fmt)
    if not keys:
        return "true"
    return " OR ".join(f'"{k}" IS NOT NULL' for k in keys)
