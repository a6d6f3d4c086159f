"""Currencies on profiles: every currency's total converted to the reporting currency, zero-decimal
amounts in whole units, NULL (and a count per currency) where a rate is missing, never a partial sum."""

import json

import pandas as pd
import pytest

from uds_pipelines.lib import catalog, fx
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.profiles.currencies import missing_rate_warning
from uds_pipelines.lib.profiles.kpis import Kpi, kpi_markdown
from uds_pipelines.lib.profiles.stage import build_kpis, build_profiles
from uds_pipelines_tests.lib.profiles.helpers import build, columns, identity_map, write
from uds_pipelines_tests.lib.profiles.mixed_currency import (
    AS_OF,
    RATES,
    RATES_CSV,
    REPORTING,
    mixed_currency_lake,
    ts,
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


def test_kpis_are_per_currency_and_in_the_reporting_currency_never_mixed(lake_dir, tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES_CSV)
    settings = Settings(data_dir=tmp_path / "data", fx_rates_file=rates, as_of_override=AS_OF)
    build_profiles(settings)
    stage = build_kpis(settings)
    money = {(k.kpi, k.currency): k.value for k in stage.figures if k.currency is not None}
    # every currency a person paid in counts: eur250_gbp100 is an EUR and a GBP buyer
    assert money == {
        ("buyers", "CHF"): 2, ("total_ltv", "CHF"): 105.0, ("average_ltv", "CHF"): 52.5, ("median_ltv", "CHF"): 52.5,
        ("buyers", "EUR"): 1, ("total_ltv", "EUR"): 250.0, ("average_ltv", "EUR"): 250.0, ("median_ltv", "EUR"): 250.0,
        ("buyers", "GBP"): 2, ("total_ltv", "GBP"): 160.0, ("average_ltv", "GBP"): 80.0, ("median_ltv", "GBP"): 80.0,
        # whole yen: 1,500 and 100,000, not 15.00 and 1,000.00
        ("buyers", "JPY"): 2, ("total_ltv", "JPY"): 101500.0, ("average_ltv", "JPY"): 50750.0,
        ("median_ltv", "JPY"): 50750.0,
        ("buyers", "USD"): 3, ("total_ltv", "USD"): 670.0, ("average_ltv", "USD"): 223.33, ("median_ltv", "USD"): 50.0,
        # in USD over the six buyers with a rate: 600 + 50 + 422.40 + 79.74 + 9.78 + 652 = 1813.92
        ("buyers_reporting", "USD"): 6, ("total_ltv_reporting", "USD"): 1813.92,
        ("average_ltv_reporting", "USD"): 302.32, ("median_ltv_reporting", "USD"): 251.07,
        ("buyers_without_fx_rate", "USD"): 2,
    }  # fmt: skip
    assert not any(k.kpi in ("average_ltv", "median_ltv") and k.currency is None for k in stage.figures)
    table = pd.read_parquet(catalog.path(settings.lake_dir, "customer_kpis"))
    assert list(table.columns) == ["as_of", "kpi", "currency", "value"]
    assert len(table) == len(stage.figures) and (table["as_of"] == pd.Timestamp(AS_OF)).all()
    row = table[(table["kpi"] == "average_ltv") & (table["currency"] == "JPY")]
    assert row["value"].tolist() == [50750.0]
    assert table.loc[table["kpi"] == "customers", "currency"].isna().all()


def test_kpi_markdown_shows_one_line_per_currency_and_the_reporting_line():
    rows = [Kpi("customers", None, 9), Kpi("buyers", "JPY", 2.0), Kpi("total_ltv", "JPY", 101500.0),
            Kpi("average_ltv", "JPY", 50750.0), Kpi("median_ltv", "JPY", 50750.0),
            Kpi("buyers_reporting", "USD", 6.0), Kpi("total_ltv_reporting", "USD", 1813.92),
            Kpi("average_ltv_reporting", "USD", 302.32), Kpi("median_ltv_reporting", "USD", 251.07),
            Kpi("buyers_without_fx_rate", "USD", 2.0)]  # fmt: skip
    text = kpi_markdown(rows)
    assert "| customers | 9 |" in text
    assert "| JPY | 2 | 101500 | 50750 | 50750 |" in text
    assert "| all buyers, in USD (reporting) | 6 | 1813.92 | 302.32 | 251.07 |" in text
    assert "2 buyer(s) paid in a currency without a rate" in text
    assert Kpi("average_ltv_reporting", "USD", 1.0).key == "average_ltv_reporting_usd"


def test_missing_rate_warning_names_the_currencies_and_counts():
    assert missing_rate_warning({}, "USD") is None
    text = missing_rate_warning({"CHF": 2, "SEK": 1}, "USD")
    assert text.startswith("3 profile(s) have no lifetime_value_reporting") and "CHF: 2, SEK: 1" in text


def test_three_decimal_currencies_count_thousandths(tmp_path):
    lake_dir = tmp_path / "lake"
    write(lake_dir, catalog.table("stripe_customers").path, [{"customer_id": "cus_kwd", "created": ts("2026-01-05")}],
          columns("stripe_customers"))  # fmt: skip
    write(lake_dir, catalog.table("stripe_charges").path, [
        {"charge_id": "ch_kwd", "customer_id": "cus_kwd", "amount": 12345, "amount_refunded": 0, "currency": "kwd",
         "status": "succeeded", "paid": True, "created": ts("2026-10-01")},
    ], columns("stripe_charges"))  # fmt: skip
    identity_map(lake_dir, {"kwd": [("stripe", "cus_kwd")]})
    profiles, _ = build(lake_dir, rates={"usd": 1.0, "kwd": 3.25})
    person = profiles.loc["kwd"]
    assert person["lifetime_value"] == 12.345  # 12345 fils, not 123.45 dinars
    assert json.loads(person["lifetime_value_by_currency"]) == {"kwd": 12.345}
    assert person["lifetime_value_reporting"] == 40.12  # 12.345 * 3.25 = 40.12125, in cents
    assert fx.decimals("KWD") == 3
