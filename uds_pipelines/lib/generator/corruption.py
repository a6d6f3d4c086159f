"""Single-value corruptions, the way people, scanners and forms damage records.

Each function takes the clean value and a `random.Random` and returns the damaged value, or None
when the corruption cannot apply to this value (no nickname known, a day above 12, ...), so the
caller can fall back to another kind. `keyboard_typo` always applies to a non-empty value.
"""

from __future__ import annotations

import random
import re
from datetime import date

from uds_pipelines.lib.generator.corruption_tables import (
    ABBREVIATIONS,
    KEYBOARD_NEIGHBOURS,
    NICKNAMES,
    OCR_CONFUSIONS,
    PHONETIC_RULES,
    SUFFIX_ABBREVIATIONS,
)

_SHORT_TO_LONG = {short: long for long, short in ABBREVIATIONS.items()}
_OCR = [(re.compile(re.escape(src)), dst) for src, dst in OCR_CONFUSIONS]
_WORD = re.compile(r"[^\s,]+")
# A corrupted birth date stays in the past of the generated world.
_LATEST_BIRTH_DATE = "2025-12-31"
_DIGITS = re.compile(r"\d+")


def _match_case(replacement: str, original: str) -> str:
    """`replacement` written in the case of the text it replaces (capital first letter kept)."""
    if original[:1].isupper() and replacement:
        return replacement[0].upper() + replacement[1:]
    return replacement


def _neighbour(ch: str, rnd: random.Random) -> str:
    # Letters stay letters and digits digits: a form field or scanner rarely mixes them by a typo.
    near = [n for n in KEYBOARD_NEIGHBOURS.get(ch.lower(), "") if n.isdigit() == ch.isdigit()]
    if not near:
        return ch
    hit = rnd.choice(near)
    return hit.upper() if ch.isupper() else hit


def keyboard_typo(value: str, rnd: random.Random) -> str:
    """A key next to the intended one: substituted (most often), inserted, or a letter dropped or
    doubled. The first character is spared more often, as people look at it while typing."""
    spots = [i for i, ch in enumerate(value) if ch.isalnum()]
    if not spots:
        return value + rnd.choice("abcdefghijklmnopqrstuvwxyz")
    if len(spots) > 2 and rnd.random() < 0.8:
        spots = spots[1:]
    i = rnd.choice(spots)
    ch = value[i]
    roll = rnd.random()
    if roll < 0.6 and _neighbour(ch, rnd) != ch:
        return value[:i] + _neighbour(ch, rnd) + value[i + 1 :]
    if roll < 0.75:
        return value[: i + 1] + _neighbour(ch, rnd).lower() + value[i + 1 :]
    if roll < 0.9 and len(spots) > 2:
        return value[:i] + value[i + 1 :]
    return value[: i + 1] + ch.lower() + value[i + 1 :]


def ocr_error(value: str, rnd: random.Random) -> str | None:
    """One scanner misreading: "rn" read as "m", "O" as "0", "l" as "1", "5" as "S", ..."""
    sites = [(m.start(), m.end(), dst) for pattern, dst in _OCR for m in pattern.finditer(value)]
    if not sites:
        return None
    start, end, dst = rnd.choice(sites)
    return value[:start] + dst + value[end:]


def phonetic_spelling(value: str, rnd: random.Random) -> str | None:
    """The same sound spelled another way: ph/f, ck/k, -ie/-y, ei/ie, double letters, umlauts."""
    lower = value.lower()
    sites = [(m.start(), m.end(), repl) for rule, repl in PHONETIC_RULES for m in rule.finditer(lower)]
    if not sites:
        return None
    start, end, repl = rnd.choice(sites)
    return value[:start] + _match_case(repl, value[start:end]) + value[end:]


def transposition(value: str, rnd: random.Random) -> str | None:
    """Two neighbouring letters or digits typed in the wrong order (case stays by position)."""
    spots = [
        i
        for i in range(len(value) - 1)
        if value[i].isalnum() and value[i + 1].isalnum() and value[i].lower() != value[i + 1].lower()
    ]
    if not spots:
        return None
    i = rnd.choice(spots)
    a, b = value[i], value[i + 1]
    a2, b2 = (b.upper(), a.lower()) if a.isupper() else (b, a)
    return value[:i] + a2 + b2 + value[i + 2 :]


def nickname(value: str, rnd: random.Random) -> str | None:
    """A familiar form (William -> Bill) or the formal one (Kate -> Katherine)."""
    others = NICKNAMES.get(value)
    return rnd.choice(others) if others else None


def abbreviation(value: str, rnd: random.Random) -> str | None:
    """One street word shortened or spelled out: Street <-> St, Road <-> Rd, Hauptstraße <-> Hauptstr."""
    sites = []
    for m in _WORD.finditer(value):
        word = m.group()
        bare = word.rstrip(".") if word.rstrip(".") in _SHORT_TO_LONG else word
        if word in ABBREVIATIONS:
            sites.append((m.start(), m.end(), ABBREVIATIONS[word]))
        elif bare in _SHORT_TO_LONG:
            sites.append((m.start(), m.end(), _SHORT_TO_LONG[bare]))
        for long, short in SUFFIX_ABBREVIATIONS.items():
            if word.endswith(long) and len(word) > len(long):
                sites.append((m.end() - len(long), m.end(), short))
            elif word.endswith(short) and len(word) > len(short):
                sites.append((m.end() - len(short), m.end(), long))
    if not sites:
        return None
    start, end, repl = rnd.choice(sites)
    return value[:start] + repl + value[end:]


def number_error(value: str, rnd: random.Random) -> str | None:
    """A house number mistyped: one digit changed, or two digits swapped."""
    numbers = list(_DIGITS.finditer(value))
    if not numbers:
        return None
    m = rnd.choice(numbers)
    digits = m.group()
    changed = transposition(digits, rnd) if len(digits) > 1 and rnd.random() < 0.4 else None
    if changed is None:
        i = rnd.randrange(len(digits))
        changed = digits[:i] + _neighbour(digits[i], rnd) + digits[i + 1 :]
    return value[: m.start()] + changed + value[m.end() :]


def postcode_digit(value: str, rnd: random.Random) -> str | None:
    """One postcode character mistyped, a neighbouring key (a digit for a digit)."""
    spots = [i for i, ch in enumerate(value) if ch.isalnum()]
    if not spots:
        return None
    i = rnd.choice(spots)
    return value[:i] + _neighbour(value[i], rnd) + value[i + 1 :]


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def swapped_day_month(value: str, rnd: random.Random) -> str | None:
    """Day and month exchanged (a US form read as European); only possible when both are <= 12."""
    year, month, day = (int(part) for part in value.split("-"))
    if day > 12 or day == month:
        return None
    return _iso(year, day, month)


def date_digit(value: str, rnd: random.Random) -> str | None:
    """One digit of the day, month or year mistyped, keeping a real calendar date."""
    digits = value.replace("-", "")
    for _ in range(4):
        i = rnd.choice([2, 3, 5, 7, 7])  # decade, year, month, day (days most often)
        text = digits[:i] + _neighbour(digits[i], rnd) + digits[i + 1 :]
        result = _iso(int(text[:4]), int(text[4:6]), int(text[6:]))
        if result and result != value and result <= _LATEST_BIRTH_DATE:
            return result
    return None


def date_transposition(value: str, rnd: random.Random) -> str | None:
    """Adjacent digits swapped: 1984 -> 1948, day 13 -> 31, kept only when a real date results."""
    year, month, day = value.split("-")
    candidates = [
        _iso(int(year[:2] + year[3] + year[2]), int(month), int(day)),
        _iso(int(year), int(month[::-1]), int(day)),
        _iso(int(year), int(month), int(day[::-1])),
    ]
    valid = [c for c in candidates if c and c != value and c <= _LATEST_BIRTH_DATE]
    return rnd.choice(valid) if valid else None
