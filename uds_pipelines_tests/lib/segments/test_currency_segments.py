"""The shipped `high_value` segment over mixed-currency profiles: a threshold in the reporting
currency, so 1,500 yen (about ten dollars) is not high value and USD 600 is."""

import pytest

from uds_pipelines.lib import connection
from uds_pipelines.lib.config import CONFIG_DIR, Settings
from uds_pipelines.lib.profiles.stage import build_profiles
from uds_pipelines.lib.segments import compute_membership, load_segments
from uds_pipelines_tests.lib.profiles.mixed_currency import AS_OF, RATES_CSV, mixed_currency_lake


@pytest.fixture
def settings(tmp_path):
    mixed_currency_lake(tmp_path / "data" / "lake")
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES_CSV)
    settings = Settings(data_dir=tmp_path / "data", fx_rates_file=rates, as_of_override=AS_OF)
    build_profiles(settings)
    return settings


def test_high_value_is_a_reporting_currency_threshold(settings):
    segments, errors = load_segments(CONFIG_DIR / "segments.yaml")
    assert errors == []
    high_value = [s for s in segments if s.name == "high_value"]
    assert "lifetime_value_reporting" in high_value[0].where
    con = connection.connect(settings.lake_dir)
    result = compute_membership(con, high_value, "customer_profiles", AS_OF)
    assert result.errors == []  # the validator binds the new column against the real profiles
    members = {row[0] for row in con.execute(f"SELECT customer_id FROM {result.membership}").fetchall()}
    # USD 600 and 100,000 yen (652 USD) are in; 1,500 yen (9.78 USD), EUR 250 + GBP 100 (422.40 USD)
    # and the people paying in CHF (no rate: NULL, never a guess) are out
    assert members == {"usd600", "jpy100k"}


def test_rfm_monetary_ranks_buyers_by_reporting_currency_value(settings):
    con = connection.connect(settings.lake_dir)
    scores = dict(con.execute("SELECT customer_id, rfm_monetary FROM customer_profiles").fetchall())
    # quintiles of the six buyers with a rate, in USD: 9.78 (1,500 yen, not 1500 > 50 in raw units),
    # 50, 79.74, 422.40, 600, 652 (100,000 yen): score 1 + floor(5 * (rank - 1) / 6)
    rated = {"jpy1500": 1, "usd50": 1, "gbp60": 2, "eur250_gbp100": 3, "usd600": 4, "jpy100k": 5}
    assert {person: scores[person] for person in rated} == rated
    # no rate, no value to rank: no monetary score rather than one from raw francs
    assert scores["chf100"] is None and scores["usd20_chf5"] is None
    assert scores["never_paid"] is None
