"""Country names, alpha-3 and alpha-2 codes to ISO 3166-1 alpha-2."""

from __future__ import annotations

from functools import lru_cache

from uds_pipelines.lib.normalize.country_data import COUNTRY_ROWS
from uds_pipelines.lib.normalize.text import fold_words


def _key(text: str) -> str:
    """Table and input share one spelling: folded, no punctuation, no leading "the", "saint" spelled out."""
    key = fold_words(text)
    if key.startswith("the "):
        key = key[4:]
    if key.startswith("st "):
        key = "saint " + key[3:]
    return key


def _build() -> tuple[frozenset[str], dict[str, str]]:
    alpha2: set[str] = set()
    lookup: dict[str, str] = {}
    for line in COUNTRY_ROWS.strip().splitlines():
        code2, code3, names = line.split(" ", 2)
        alpha2.add(code2)
        lookup[code3.lower()] = code2
        for name in names.split("|"):
            lookup[_key(name)] = code2
    return frozenset(alpha2), lookup


ALPHA2, _LOOKUP = _build()


@lru_cache(maxsize=4096)
def normalize_country(raw: str | None) -> str | None:
    """ISO 3166-1 alpha-2 for a country name, alpha-3 or alpha-2 code; None when unknown."""
    if raw is None or not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text:
        return None
    if len(text) == 2 and text.isascii() and text.upper() in ALPHA2:
        return text.upper()
    key = _key(text)
    return _LOOKUP.get(key) or _LOOKUP.get(key.replace(" ", ""))
