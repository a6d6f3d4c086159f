"""How one person's identifiers drift between sources: case, whitespace, plus tags, formats, typos."""

from __future__ import annotations

import random

import phonenumbers

from uds_pipelines.lib.generator.people import Person, ascii_fold
from uds_pipelines.lib.generator.pools import JUNK_EMAILS, JUNK_PHONES

# Share of records that carry a junk identifier shared by unrelated people.
JUNK_SHARE = 0.02
TRUNK_ZERO_REGIONS = {"GB", "DE", "FR"}
IDD_00_REGIONS = {"GB", "DE", "FR", "IN"}


def gmail_dots(rng: random.Random, local: str) -> str:
    """Gmail ignores dots: drop them all, or add one somewhere else."""
    if "." in local and rng.random() < 0.6:
        return local.replace(".", "")
    plain = local.replace(".", "")
    if len(plain) < 3:
        return local
    cut = rng.randint(1, len(plain) - 1)
    return plain[:cut] + "." + plain[cut:]


def email_variant(rng: random.Random, person: Person, clean: float = 0.45) -> tuple[str, str]:
    """An email as some source would hold it for `person`, plus a short note of what varied."""
    email = person.email
    if rng.random() < clean:
        return email, ""
    local, domain = email.split("@", 1)
    kind = rng.randrange(6)
    if kind == 0:
        return (
            email.upper() if rng.random() < 0.3 else local.capitalize() + "@" + domain.capitalize(),
            "email case",
        )
    if kind == 1:
        return rng.choice(["  ", " ", "\t"]) + email + rng.choice([" ", "  ", ""]), "email whitespace"
    if kind == 2:
        tag = rng.choice(["news", "shop", "stripe", "promo", "2025"])
        return f"{local}+{tag}@{domain}", "plus addressing"
    if kind == 3 and domain == "gmail.com":
        return f"{gmail_dots(rng, local)}@{domain}", "gmail dots"
    if kind == 4:
        return " " + email.upper() + " ", "email case+whitespace"
    return email.lower(), ""


_FORMATS_CACHE: dict[str, list[tuple[str, str]]] = {}


def phone_formats(e164: str, region: str) -> list[tuple[str, str]]:
    """Every way the number gets written (cached: phonenumbers formatting is slow)."""
    cached = _FORMATS_CACHE.get(e164)
    if cached is not None:
        return cached
    number = phonenumbers.parse(e164, None)
    intl = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    code, _, rest = intl.partition(" ")
    trunk = f"{code} (0){rest}" if region in TRUNK_ZERO_REGIONS else intl
    formats = [
        (e164, "phone e164"),
        (intl, "phone international"),
        (national, "phone national"),
        (trunk, "phone (0)" if region in TRUNK_ZERO_REGIONS else "phone international"),
        # "00" is the international prefix only where the dialling plan says so (not US 011, JP 010).
        ("00" + intl[1:].replace(" ", ""), "phone 00 prefix")
        if region in IDD_00_REGIONS
        else (e164, "phone e164"),
        (national.replace(" ", "-").replace("(", "").replace(")", ""), "phone national dashes"),
    ]
    if len(_FORMATS_CACHE) > 500_000:
        _FORMATS_CACHE.clear()
    _FORMATS_CACHE[e164] = formats
    return formats


def format_phone(rng: random.Random, e164: str, region: str) -> tuple[str, str]:
    """A valid phone written the way a person types it: national, international, E.164, `(0)`."""
    return phone_formats(e164, region)[rng.randrange(6)]


def phone_variant(rng: random.Random, person: Person) -> tuple[str, str]:
    return format_phone(rng, person.phone_e164, person.country)


def typo(rng: random.Random, name: str) -> str:
    """One keyboard slip: swapped, dropped or doubled letter."""
    if len(name) < 4:
        return name
    i = rng.randint(1, len(name) - 2)
    kind = rng.randrange(3)
    if kind == 0:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i] + name[i:]


def first_name_variant(rng: random.Random, person: Person) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.65:
        return person.first_name, ""
    if roll < 0.78 and person.nicknames:
        return rng.choice(person.nicknames), "nickname"
    if roll < 0.86 and ascii_fold(person.first_name) != person.first_name:
        return ascii_fold(person.first_name), "diacritics dropped"
    if roll < 0.93:
        return typo(rng, person.first_name), "name typo"
    return person.first_name.upper(), "name case"


def last_name_variant(rng: random.Random, person: Person) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.75:
        return person.last_name, ""
    if roll < 0.87 and ascii_fold(person.last_name) != person.last_name:
        return ascii_fold(person.last_name), "diacritics dropped"
    if roll < 0.95:
        return typo(rng, person.last_name), "name typo"
    return person.last_name.lower(), "name case"


def maybe(rng: random.Random, value: str | None, keep: float) -> str | None:
    """Drop a field now and then: real records miss things."""
    return value if rng.random() < keep else None


def identity_fields(rng: random.Random, person: Person, phone_keep: float = 0.6) -> tuple[dict, list[str]]:
    """Email, phone and names for one record of `person`, with junk identifiers now and then."""
    notes: list[str] = []
    email, note = email_variant(rng, person)
    notes.append(note)
    phone: str | None = None
    if rng.random() < phone_keep:
        phone, note = phone_variant(rng, person)
        notes.append(note)
    if rng.random() < JUNK_SHARE:
        email = rng.choice(JUNK_EMAILS)
        notes.append("junk email")
    elif rng.random() < JUNK_SHARE:
        phone = rng.choice(JUNK_PHONES)
        notes.append("junk phone")
    first, note = first_name_variant(rng, person)
    notes.append(note)
    last, note = last_name_variant(rng, person)
    notes.append(note)
    if rng.random() < 0.05:
        last = None
        notes.append("last name missing")
    return {"email": email, "phone": phone, "first_name": first, "last_name": last}, [n for n in notes if n]
