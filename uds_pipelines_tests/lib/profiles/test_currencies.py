"""Currencies on profiles: every currency's total converted to the reporting currency, zero-decimal
amounts in whole units, NULL (and a count per currency) where a rate is missing, never a partial sum."""

import json

import pandas as pd
import pytest

from uds_pipelines.lib import catalog
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.profiles.stage import build_profiles
from uds_pipelines_tests.lib.profiles.helpers import build
from uds_pipelines_tests.lib.profiles.mixed_currency import (
    AS_OF,
    RATES,
    RATES_CSV,
    REPORTING,
    mixed_currency_lake,
)


@pytest.fixture
def lake_dir(tmp_path):
    return mixed_currency_lake(tmp_path / "data" / "lake")


def test_every_currency_is_converted_and_summed_zero_decimal_in_whole_units(lake_dir):
    profiles, _ = build(lake_dir, rates=RATES)
    got = {person: (None if pd.isna(v) else v) for person, v in profiles["lifetime_value_reporting"].items()}
    assert got == pytest.approx(REPORTING)
    yen = profiles.loc["jpy1500"]
    assert (yen["currency"], yen["lifetime_value"]) == ("jpy", 1500.0)
    assert json.loads(yen["lifetime_value_by_currency"]) == {"jpy": 1500.0}
    both = profiles.loc["eur250_gbp100"]
    assert (both["currency"], both["lifetime_value"]) == ("eur", 250.0)  # primary currency unchanged


def test_without_rates_only_the_reporting_currency_converts(lake_dir):
    profiles, _ = build(lake_dir)
    assert profiles.loc["usd600", "lifetime_value_reporting"] == 600.0
    assert profiles["lifetime_value_reporting"].isna().sum() == 6  # every other payer


def test_stage_writes_the_column_and_counts_profiles_without_a_rate_per_currency(lake_dir, tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES_CSV)
    settings = Settings(data_dir=tmp_path / "data", fx_rates_file=rates, as_of_override=AS_OF)
    stage = build_profiles(settings)
    assert stage.rows == len(REPORTING)
    assert stage.without_fx_rate == {"CHF": 2}
    # the rates in force on the as-of day, not the later JPY rate of 2026-11-20
    assert stage.fx_rates_used["JPY"] == {"rate": 0.00652, "date": "2026-10-30"}
    assert stage.reporting_currency == "USD"
    written = pd.read_parquet(catalog.path(settings.lake_dir, "customer_profiles")).set_index("customer_id")
    assert written.loc["jpy100k", "lifetime_value_reporting"] == 652.0
    assert pd.isna(written.loc["usd20_chf5", "lifetime_value_reporting"])


def test_reporting_in_a_zero_decimal_currency_rounds_to_whole_units(lake_dir, tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate,date\nJPY,1,2026-10-30\nUSD,153.37,2026-10-30\nEUR,177.6,2026-10-30\n"
                     "GBP,203.83,2026-10-30\nCHF,190.1,2026-10-30\n")  # fmt: skip
    settings = Settings(
        data_dir=tmp_path / "data", fx_rates_file=rates, reporting_currency="JPY", as_of_override=AS_OF
    )
    stage = build_profiles(settings)
    assert stage.without_fx_rate == {}
    written = pd.read_parquet(catalog.path(settings.lake_dir, "customer_profiles")).set_index("customer_id")
    assert written.loc["usd50", "lifetime_value_reporting"] == 7669.0  # 50 * 153.37 = 7668.5, whole yen
    assert written.loc["jpy1500", "lifetime_value_reporting"] == 1500.0
    assert written.loc["usd20_chf5", "lifetime_value_reporting"] == 4018.0  # 3067.4 + 950.5 = 4017.9
