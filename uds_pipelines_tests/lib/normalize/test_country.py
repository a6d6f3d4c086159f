"""Country input in names, native names, alpha-3 and alpha-2 to ISO alpha-2."""

import pytest

from uds_pipelines.lib.normalize import normalize_country
from uds_pipelines.lib.normalize.country import ALPHA2
from uds_pipelines.lib.normalize.country_data import COUNTRY_ROWS


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("DEU", "DE"),
        ("de", "DE"),
        (" DE ", "DE"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("gbr", "GB"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("United States of America", "US"),
        ("España", "ES"),
        ("espana", "ES"),
        ("the Netherlands", "NL"),
        ("Türkiye", "TR"),
        ("Côte d’Ivoire", "CI"),
        ("St. Kitts and Nevis", "KN"),
        ("Korea, Republic of", "KR"),
        ("日本", "JP"),
        ("Brasil", "BR"),
        ("Österreich", "AT"),
    ],
)
def test_known_inputs(raw: str, code: str) -> None:
    assert normalize_country(raw) == code


@pytest.mark.parametrize("raw", [None, "", "Narnia", "xx", "ZZZ", "123", 49])
def test_unknown_inputs(raw) -> None:
    assert normalize_country(raw) is None


def test_every_row_round_trips_by_code_and_english_name() -> None:
    rows = [line.split(" ", 2) for line in COUNTRY_ROWS.strip().splitlines()]
    assert len(rows) == len(ALPHA2) >= 249
    alpha3 = [row[1] for row in rows]
    assert len(set(alpha3)) == len(alpha3)
    for code2, code3, names in rows:
        assert normalize_country(code2.lower()) == code2
        assert normalize_country(code3) == code2
        assert normalize_country(names.split("|")[0]) == code2
