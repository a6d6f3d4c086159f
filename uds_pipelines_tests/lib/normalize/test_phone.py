"""Phone normalization to E.164: national formats, trunk prefixes, extensions, junk."""

import pandas as pd
import pytest

from uds_pipelines.lib.normalize import normalize_phone, normalize_phones


@pytest.mark.parametrize(
    ("raw", "country", "e164", "region"),
    [
        ("+44 (0)20 7946 0958", None, "+442079460958", "GB"),
        ("020 7946 0958", "GB", "+442079460958", "GB"),
        ("020 7946 0958", "United Kingdom", "+442079460958", "GB"),
        ("(415) 555-0123", None, "+14155550123", "US"),
        ("415.555.0123", "US", "+14155550123", "US"),
        ("030 901820", "DE", "+4930901820", "DE"),
        ("030 901820", "Deutschland", "+4930901820", "DE"),
        ("01 42 68 53 00", "FR", "+33142685300", "FR"),
        ("(11) 91234-5678", "BR", "+5511912345678", "BR"),
        ("091234 56789", "IN", "+919123456789", "IN"),
        ("03-1234-5678", "JP", "+81312345678", "JP"),
        ("0044 20 7946 0958", None, "+442079460958", "GB"),
        ("0049 (0)30 901820", "US", "+4930901820", "DE"),
        ("+33 6 12 34 56 78", "US", "+33612345678", "FR"),
        ("1-800-FLOWERS", "US", "+18003569377", "US"),
        ("２０２－５５５－０１２３", None, "+12025550123", "US"),
        ("tel:+14155550123", None, "+14155550123", "US"),
    ],
)
def test_valid_numbers(raw: str, country: str | None, e164: str, region: str) -> None:
    result = normalize_phone(raw, country)
    assert result.reason is None
    assert result.e164 == e164
    assert result.region == region


def test_default_region_applies_without_country() -> None:
    assert normalize_phone("030 901820", None, default_region="DE").e164 == "+4930901820"
    assert normalize_phone("030 901820", None, default_region="US").e164 is None
    assert normalize_phone("030 901820", "Narnia", default_region="DE").e164 == "+4930901820"


@pytest.mark.parametrize(
    ("raw", "extension"),
    [("(415) 555-0123 x123", "123"), ("+1 415-555-0123 ext. 12", "12"), ("+1 212 555 0100 #22", "22")],
)
def test_extensions_are_dropped_and_noted(raw: str, extension: str) -> None:
    result = normalize_phone(raw)
    assert result.e164 in {"+14155550123", "+12125550100"}
    assert result.extension == extension


@pytest.mark.parametrize(
    ("raw", "country", "reason"),
    [
        ("abc", None, "not a number"),
        ("12", None, "too short"),
        ("+49 30 1234567890123456", None, "too long"),
        ("+999 123", None, "invalid country code"),
        ("555-1234", None, "invalid number for region US"),
        ("030 12", "DE", "invalid number for region DE"),
        ("0000000000", None, "placeholder number"),
        ("+1 111 111 1111", None, "placeholder number"),
        ("+15555555555", None, "placeholder number"),
        ("1234567890", None, "placeholder number"),
        ("   ", None, "missing"),
        (None, None, "missing"),
    ],
)
def test_invalid_numbers_have_reason_and_no_guess(raw: str | None, country: str | None, reason: str) -> None:
    result = normalize_phone(raw, country)
    assert result.e164 is None
    assert result.reason == reason


def test_vectorized_uses_each_rows_country() -> None:
    phones = pd.Series(["030 901820", "020 7946 0958", None, "030 901820"], index=[5, 6, 7, 8])
    countries = pd.Series(["DE", "GB", "FR", None], index=[5, 6, 7, 8])
    frame = normalize_phones(phones, countries, default_region="US")
    assert list(frame.index) == [5, 6, 7, 8]
    assert frame["e164"].tolist() == ["+4930901820", "+442079460958", None, None]
    assert frame.loc[8, "reason"] == "too short"  # nine digits read as a US number
    assert frame.loc[7, "reason"] == "missing"


@pytest.mark.parametrize(
    ("raw", "country", "e164", "region"),
    [
        # Webflow posts phone fields as JSON numbers, so the "+" is lost on the way.
        ("4915123121279", None, "+4915123121279", "DE"),
        ("447400994077", None, "+447400994077", "GB"),
        ("33612287722", "US", "+33612287722", "FR"),
        ("14155550123", "GB", "+14155550123", "US"),
    ],
)
def test_international_number_without_its_plus(raw: str, country: str | None, e164: str, region: str) -> None:
    result = normalize_phone(raw, country)
    assert (result.e164, result.region, result.reason) == (e164, region, None)


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("07400 994077", None, None),  # a national number with a trunk 0 is never re-read
        ("0447400994077", None, None),
        ("44 7400 994077", None, None),  # only bare digit strings
        ("2025550123", None, "+12025550123"),  # valid where the record lives: national reading wins
        ("4930901820", None, None),  # ten digits: more likely a national number than +49 30 901820
        ("15555555555", None, None),  # a placeholder stays one
    ],
)
def test_plus_is_restored_only_for_bare_long_digit_strings(
    raw: str, country: str | None, e164: str | None
) -> None:
    assert normalize_phone(raw, country).e164 == e164
