"""Name normalization: casing rules, Unicode folding for keys, emoji, splitting full names."""

import pytest

from uds_pipelines.lib.normalize import normalize_name, split_full_name


@pytest.mark.parametrize(
    ("raw", "normalized", "key"),
    [
        ("İSMAİL", "İsmail", "ismail"),
        ("ismail", "Ismail", "ismail"),
        ("ıspanak", "Ispanak", "ispanak"),
        ("WEIẞ", "Weiß", "weiss"),
        ("Weiß", "Weiß", "weiss"),
        ("Straße", "Straße", "strasse"),
        ("  jane \t  DOE ", "Jane Doe", "janedoe"),
        ("Zoë 🌟", "Zoë", "zoe"),
        ("McDonald", "McDonald", "mcdonald"),
        ("mcdonald", "McDonald", "mcdonald"),
        ("DeShawn", "DeShawn", "deshawn"),
        ("VAN DER BERG", "van der Berg", "vanderberg"),
        ("Ludwig VAN BEETHOVEN", "Ludwig van Beethoven", "ludwigvanbeethoven"),
        ("o'brien", "O'Brien", "obrien"),
        ("JEAN-PIERRE", "Jean-Pierre", "jeanpierre"),
        ("Øyvind Ærø", "Øyvind Ærø", "oyvindaero"),
        ("Łukasz", "Łukasz", "lukasz"),
        ("Jose\u0301", "Jos\u00e9", "jose"),
        ("👩\u200d👩\u200d👧 Ann", "Ann", "ann"),
    ],
)
def test_normalize_name(raw: str, normalized: str, key: str) -> None:
    result = normalize_name(raw)
    assert result.original == raw
    assert result.normalized == normalized
    assert result.match_key == key


def test_accent_and_case_variants_share_a_key() -> None:
    keys = {normalize_name(v).match_key for v in ["Zoë", "ZOE", "zoe 🌟", "Zoe\u0308"]}
    assert keys == {"zoe"}


@pytest.mark.parametrize("raw", [None, "", "   ", "🌟🌟", "1234", 7])
def test_empty_names_give_none(raw) -> None:
    result = normalize_name(raw)
    assert result.normalized is None and result.match_key is None


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("jenny rosen", "Jenny", "Rosen"),
        ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
        ("Juan Carlos de la Cruz", "Juan Carlos", "de la Cruz"),
        ("Doe, Jane", "Jane", "Doe"),
        ("Dr. Jane Doe", "Jane", "Doe"),
        ("Madonna", "Madonna", None),
        ("  ", None, None),
        (None, None, None),
    ],
)
def test_split_full_name(full: str | None, first: str | None, last: str | None) -> None:
    assert split_full_name(full) == (first, last)
