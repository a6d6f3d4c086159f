"""Address, place and postcode keys: one spelling per address, whatever the case, accents,
punctuation or street-type abbreviation."""

import pytest

from uds_pipelines.lib.normalize import address_key, place_key, postcode_key


@pytest.mark.parametrize(
    ("variants", "key"),
    [
        (["10 Downing Street", "10, downing st.", "  10 DOWNING   ST "], "10 downing st"),
        (["Hauptstraße 5", "Hauptstrasse 5", "Haupt Str. 5", "Hauptstr. 5"], "haupt st 5"),
        (["Av. Paulista, 1000", "Avenida Paulista 1000", "AV PAULISTA 1000"], "ave paulista 1000"),
        (["Boulevard Voltaire", "Bd Voltaire", "boulevard voltaire"], "blvd voltaire"),
        (["221B Baker Street", "221b Baker St"], "221b baker st"),
        (["1-2-3 Shibuya", "1 2 3 Shibuya"], "1 2 3 shibuya"),
        (["Rua São João 95", "R. Sao Joao 95"], "r sao joao 95"),
    ],
)
def test_address_variants_share_one_key(variants: list[str], key: str) -> None:
    assert {address_key(v) for v in variants} == {key}


def test_different_addresses_stay_different() -> None:
    assert address_key("229 Townsend St") != address_key("213 Townsend St")
    assert address_key("5 Main St") != address_key("Main St 5")  # word order is kept
    assert address_key("5 Mill Lane") != address_key("5 Mill Road")


@pytest.mark.parametrize("empty", [None, "", "  ", ",.;"])
def test_empty_address_gives_none(empty: str | None) -> None:
    assert address_key(empty) is None
    assert place_key(empty) is None


def test_place_and_postcode_keys() -> None:
    assert place_key("München") == place_key("MUNCHEN ") == "munchen"
    assert place_key("Frankfurt am Main") == "frankfurt am main"
    assert postcode_key("sw1a 1aa") == postcode_key("SW1A1AA") == "SW1A1AA"
    assert postcode_key("01310-100") == "01310100"
    assert postcode_key(" - ") is None and postcode_key(None) is None
