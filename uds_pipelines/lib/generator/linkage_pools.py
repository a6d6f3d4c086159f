"""Realistic value pools for the record-linkage generator, drawn once per locale from a seeded Faker.

Faker takes tens of microseconds a call, far too slow for a million records, so each field gets a
pool of a few thousand draws per locale and people are sampled from the pools by index. Drawing
with Faker's own weights keeps common names common (many Smiths, few Zieglers) inside each pool.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import phonenumbers
from faker import Faker

# Locale -> share of people. Several languages, so names, streets and postcodes vary in shape.
LOCALE_WEIGHTS: dict[str, float] = {
    "en_US": 0.25,
    "en_GB": 0.15,
    "en_AU": 0.05,
    "en_CA": 0.04,
    "en_IE": 0.03,
    "de_DE": 0.12,
    "fr_FR": 0.10,
    "es_ES": 0.07,
    "it_IT": 0.07,
    "nl_NL": 0.05,
    "pl_PL": 0.03,
    "pt_PT": 0.02,
    "sv_SE": 0.02,
}
# Pools are one fixed world for every seed (and drawn once per process); the seed picks people.
POOL_SEED = 16
NAME_POOL = 4000
PLACE_POOL = 1500
POSTCODE_POOL = 3000

# Faker's English street names ("Nancy Turnpike") overuse rare suffixes; real addresses are mostly
# these, which is also what makes "Street"/"St" abbreviation a common difference between records.
ENGLISH_SUFFIXES = {
    "Street": 30,
    "Road": 22,
    "Avenue": 12,
    "Lane": 8,
    "Drive": 7,
    "Close": 4,
    "Court": 3,
    "Place": 3,
    "Crescent": 3,
    "Terrace": 2,
    "Way": 3,
    "Boulevard": 1,
    "Square": 1,
    "Grove": 1,
}
# How a house number and street are written per locale ("12 High Street", "Hauptstraße 12", ...).
NUMBER_FIRST = {"en_US", "en_GB", "en_AU", "en_CA", "en_IE", "fr_FR"}
NUMBER_AFTER_COMMA = {"it_IT", "pt_PT"}


@dataclass(frozen=True)
class LocalePools:
    """Object arrays of draws for one locale."""

    locale: str
    first_names: np.ndarray
    last_names: np.ndarray
    streets: np.ndarray
    cities: np.ndarray
    postcodes: np.ndarray


def _array(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=object)


def _streets(fake: Faker, count: int) -> list[str]:
    if not fake.locales[0].startswith("en_"):
        return [fake.street_name() for _ in range(count)]
    suffixes, weights = list(ENGLISH_SUFFIXES), list(ENGLISH_SUFFIXES.values())
    streets = []
    for _ in range(count):
        if fake.random.random() < 0.25:
            streets.append(fake.street_name())
        else:
            name = fake.last_name() if fake.random.random() < 0.7 else fake.first_name()
            streets.append(f"{name} {fake.random.choices(suffixes, weights)[0]}")
    return streets


def _locale_pools(locale: str, index: int) -> LocalePools:
    fake = Faker(locale)
    fake.seed_instance(POOL_SEED * 1000 + index)
    # Some locales build a list from a set (it_IT cities), so its order, and with it every draw,
    # would change with Python's hash seed; a sorted copy makes the pools the same in every process.
    address = fake.provider("faker.providers.address")
    if isinstance(getattr(address, "cities", None), list):
        address.cities = sorted(address.cities)
    return LocalePools(
        locale=locale,
        first_names=_array([fake.first_name() for _ in range(NAME_POOL)]),
        last_names=_array([fake.last_name() for _ in range(NAME_POOL)]),
        # Faker's street names and cities never hold a newline; strip stray spaces some locales add.
        streets=_array([s.strip() for s in _streets(fake, PLACE_POOL)]),
        cities=_array([fake.city().strip() for _ in range(PLACE_POOL)]),
        postcodes=_array([fake.postcode().strip() for _ in range(POSTCODE_POOL)]),
    )


@lru_cache(maxsize=1)
def linkage_pools() -> tuple[LocalePools, ...]:
    """Every locale's pools, in `LOCALE_WEIGHTS` order (a couple of seconds, once per process)."""
    return tuple(_locale_pools(locale, i) for i, locale in enumerate(LOCALE_WEIGHTS))


def address_lines(locale: str, numbers: np.ndarray, streets: np.ndarray) -> np.ndarray:
    """First address lines as that locale writes them."""
    numbers = numbers.astype(str).astype(object)
    if locale in NUMBER_FIRST:
        return numbers + " " + streets
    if locale in NUMBER_AFTER_COMMA:
        return streets + ", " + numbers
    return streets + " " + numbers


# Region of each locale, for phone numbers in its mobile ranges, and the usual mailbox providers.
LOCALE_REGIONS = {locale: locale.split("_")[1] for locale in LOCALE_WEIGHTS}
EMAIL_DOMAINS = [
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "gmx.de",
    "web.de",
    "orange.fr",
]


def _mailbox_name(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
    return "".join(ch for ch in folded.lower() if ch.isascii() and ch.isalnum())


def contact_details(
    first: np.ndarray, last: np.ndarray, locale_of: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One email and one E.164-style phone per person, never shared by two people."""
    domains = np.array(EMAIL_DOMAINS, dtype=object)[rng.integers(0, len(EMAIL_DOMAINS), len(first))]
    taken: set[str] = set()
    emails = []
    for f, la, domain in zip(first.tolist(), last.tolist(), domains.tolist(), strict=True):
        local = f"{_mailbox_name(f)}.{_mailbox_name(la)}"
        email, suffix = f"{local}@{domain}", 1
        while email in taken:  # namesakes get a number, as mailbox providers make them choose
            suffix += 1
            email = f"{local}{suffix}@{domain}"
        taken.add(email)
        emails.append(email)
    phones = np.empty(len(first), dtype=object)
    for index, locale in enumerate(LOCALE_WEIGHTS):
        rows = np.flatnonzero(locale_of == index)
        phones[rows] = _mobile_numbers(LOCALE_REGIONS[locale], len(rows))
    return np.array(emails, dtype=object), phones


def _mobile_numbers(region: str, count: int) -> np.ndarray:
    """`count` distinct E.164 mobile numbers of `region` (up to a million): the region's example
    mobile number with its last six digits replaced. n * 7654321 mod 10^6 is a bijection (the
    factor is odd and not a multiple of 5), so numbers do not repeat yet do not run in order."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    prefix = f"+{example.country_code}{str(example.national_number)[:-6]}"
    subscribers = (np.arange(count, dtype=np.int64) * 7_654_321 + 123_457) % 1_000_000
    return prefix + np.char.zfill(subscribers.astype(str), 6).astype(object)
