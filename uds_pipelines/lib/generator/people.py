"""The true people behind every generated record, with valid phones and unique canonical emails."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

import phonenumbers
import pyarrow as pa

from uds_pipelines.lib.generator.pools import COUNTRIES, COUNTRY_WEIGHTS, NICKNAMES

PEOPLE_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("email", pa.string()),
        ("phone_e164", pa.string()),
        ("first_name", pa.string()),
        ("last_name", pa.string()),
        ("country", pa.string()),
        ("date_of_birth", pa.date32()),
        ("address_line1", pa.string()),
        ("city", pa.string()),
        ("postcode", pa.string()),
        ("erased", pa.bool_()),
    ]
)


@dataclass
class Person:
    person_id: str
    first_name: str
    last_name: str
    email: str
    phone_e164: str
    country: str
    date_of_birth: date
    address_line1: str
    city: str
    postcode: str
    currency: str
    erased: bool = False
    # Which sources the person shows up in; filled by the planner.
    sources: set[str] = field(default_factory=set)
    nicknames: list[str] = field(default_factory=list)


def ascii_fold(text: str) -> str:
    """`Müller` -> `Muller`: what people type into an email address."""
    folded = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(c for c in folded if not unicodedata.combining(c))


def _mailbox(email: str) -> str:
    """The mailbox an address delivers to: Gmail ignores dots, so `a.b@gmail.com` is `ab@gmail.com`.
    Two people must never share one, or the ground truth would call one mailbox two people."""
    local, _, domain = email.partition("@")
    if domain in ("gmail.com", "googlemail.com"):
        return local.replace(".", "") + "@gmail.com"
    return email


def _email_local(rng: random.Random, first: str, last: str) -> str:
    f = ascii_fold(first).lower().replace("'", "").replace(" ", "")
    la = ascii_fold(last).lower().replace("'", "").replace(" ", "")
    style = rng.randrange(5)
    if style == 0:
        return f"{f}.{la}"
    if style == 1:
        return f"{f[0]}{la}"
    if style == 2:
        return f"{f}{la}{rng.randint(1, 99)}"
    if style == 3:
        return f"{f}_{la}"
    return f"{la}.{f}{rng.randint(70, 99)}"


def _postcode(rng: random.Random, pattern: str) -> str:
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(str(rng.randrange(10)))
        elif ch == "@":
            out.append(chr(65 + rng.randrange(26)))
        else:
            out.append(ch)
    return "".join(out)


def valid_mobile(rng: random.Random, region: str, taken: set[str]) -> str:
    """A valid, unused mobile number for `region` in E.164, varied from the region's example number."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    keep = max(3, len(national) - 6)
    for _ in range(200):
        candidate = national[:keep] + "".join(str(rng.randrange(10)) for _ in range(len(national) - keep))
        number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(candidate))
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in taken and phonenumbers.is_valid_number_for_region(number, region):
            taken.add(e164)
            return e164
    raise RuntimeError(f"could not find a free valid mobile number for region {region}")


def make_people(rng: random.Random, count: int, start: date, erased_share: float = 0.03) -> list[Person]:
    """`count` distinct people; about `erased_share` of them will file an erasure request."""
    regions = list(COUNTRY_WEIGHTS)
    weights = [COUNTRY_WEIGHTS[r] for r in regions]
    emails: set[str] = set()
    phones: set[str] = set()
    people: list[Person] = []
    for index in range(count):
        country = rng.choices(regions, weights)[0]
        pool = COUNTRIES[country]
        first = rng.choice(pool["first"])
        last = rng.choice(pool["last"])
        domain = rng.choice(pool["domains"])
        local = _email_local(rng, first, last)
        email = f"{local}@{domain}"
        suffix = 2
        while _mailbox(email) in emails:
            email = f"{local}{suffix}@{domain}"
            suffix += 1
        emails.add(_mailbox(email))
        dob = start - timedelta(days=rng.randint(18 * 365, 75 * 365))
        people.append(
            Person(
                person_id=f"p_{index + 1:07d}",
                first_name=first,
                last_name=last,
                email=email,
                phone_e164=valid_mobile(rng, country, phones),
                country=country,
                date_of_birth=dob,
                address_line1=f"{rng.randint(1, 250)} {rng.choice(pool['streets'])}",
                city=rng.choice(pool["cities"]),
                postcode=_postcode(rng, pool["postcode"]),
                currency=pool["currency"],
                erased=rng.random() < erased_share,
                nicknames=NICKNAMES.get(first, []),
            )
        )
    return people


def people_table(people: list[Person]) -> pa.Table:
    """The ground-truth `people.parquet` table."""
    columns = {name: [getattr(p, name) for p in people] for name in PEOPLE_SCHEMA.names}
    return pa.table(columns, schema=PEOPLE_SCHEMA)
