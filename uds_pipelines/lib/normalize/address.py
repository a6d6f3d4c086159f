"""Match keys for street addresses and places: folded case and accents, no punctuation, one
spelling per common street-type word, so `10 Downing Street` and `10, downing st.` share a key."""

from __future__ import annotations

import re
from functools import lru_cache

from uds_pipelines.lib.normalize.text import fold_words

# Word -> the one spelling the key uses (USPS-style abbreviations; German, French, Spanish and
# Portuguese street words that people also abbreviate). Applied per word, after folding.
_ABBREVIATIONS = {
    "street": "st", "str": "st", "strasse": "st",
    "avenue": "ave", "av": "ave", "avenida": "ave", "avda": "ave",
    "road": "rd", "drive": "dr", "lane": "ln", "boulevard": "blvd", "bd": "blvd", "bld": "blvd",
    "place": "pl", "court": "ct", "square": "sq", "terrace": "ter", "crescent": "cres",
    "highway": "hwy", "parkway": "pkwy", "circle": "cir", "close": "cl", "gardens": "gdns",
    "apartment": "apt", "suite": "ste", "floor": "fl", "building": "bldg",
    "north": "n", "south": "s", "east": "e", "west": "w",
    "rua": "r", "number": "no", "nr": "no", "numero": "no",
}  # fmt: skip
# German compounds write the street word onto the name: "Hauptstraße" -> "haupt st".
_GERMAN_SUFFIX = re.compile(r"^(\w{3,}?)(strasse|str)$")


def _word(word: str) -> str:
    if word in _ABBREVIATIONS:
        return _ABBREVIATIONS[word]
    match = _GERMAN_SUFFIX.match(word)
    if match:
        return f"{match.group(1)} st"
    return word


@lru_cache(maxsize=262_144)
def address_key(raw: str | None) -> str | None:
    """Lower-case ASCII words of an address line, street-type words abbreviated; None when empty.

    `Hauptstraße 5` -> `haupt st 5`; `221B Baker Street` -> `221b baker st`; `Av. Paulista, 1000`
    -> `ave paulista 1000`. Word order is kept: "5 Main St" and "Main St 5" stay different."""
    if raw is None or not isinstance(raw, str):
        return None
    words = fold_words(raw).split()
    return " ".join(_word(w) for w in words) or None


@lru_cache(maxsize=65_536)
def place_key(raw: str | None) -> str | None:
    """A city or town as folded words: `München` and `MUNCHEN` -> `munchen`; None when empty."""
    if raw is None or not isinstance(raw, str):
        return None
    return fold_words(raw) or None


def postcode_key(raw: str | None) -> str | None:
    """Upper-case letters and digits only: `sw1a 1aa` -> `SW1A1AA`, `01310-100` -> `01310100`."""
    if raw is None or not isinstance(raw, str):
        return None
    return "".join(c for c in raw.upper() if c.isalnum()) or None
