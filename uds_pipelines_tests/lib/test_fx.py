"""Exchange rates to the reporting currency: the rates file, the rate in force on a day, the settings."""

from datetime import date

import pytest

from uds_pipelines.lib import fx, fx_ecb
from uds_pipelines.lib.config import CONFIG_DIR, ConfigError, Settings

RATES = """currency,rate,date
# a comment line is skipped
USD,1,2026-10-30
EUR,1.05,2026-10-01
EUR,1.08,2026-10-30
EUR,1.20,2026-11-20
jpy,0.0067,2026-10-30
"""


def test_newest_rate_on_or_before_the_day_is_used():
    rates = fx.parse_rates(RATES, "USD")
    on = rates.on(date(2026, 11, 1))
    assert on == {"usd": (1.0, date(2026, 10, 30)), "eur": (1.08, date(2026, 10, 30)),
                  "jpy": (0.0067, date(2026, 10, 30))}  # fmt: skip
    assert rates.on(date(2026, 11, 20))["eur"] == (1.20, date(2026, 11, 20))  # the day itself counts
    early = rates.on(date(2026, 10, 15))
    assert early["eur"] == (1.05, date(2026, 10, 1))
    assert "jpy" not in early  # only a later rate: none in force, never a rate from the future
    assert early["usd"][0] == 1.0  # the reporting currency converts to itself on any day


def test_decimals_follow_stripe_zero_decimal_currencies():
    assert fx.decimals("JPY") == 0 and fx.decimals("krw") == 0 and fx.decimals("usd") == 2


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("", "empty"),
        ("currency;rate;date\nUSD;1;2026-10-30\n", "header"),
        ("currency,rate,date\nUSD,1,2026-10-30\nEURO,1.08,2026-10-30\n", "line 3.*EURO"),
        ("currency,rate,date\nUSD,1,2026-10-30\nEUR,abc,2026-10-30\n", "line 3.*abc"),
        ("currency,rate,date\nUSD,1,2026-10-30\nEUR,-1.08,2026-10-30\n", "line 3.*positive"),
        ("currency,rate,date\nUSD,1,2026-10-30\nEUR,1.08,30/10/2026\n", "line 3.*30/10/2026"),
        ("currency,rate,date\nUSD,1,2026-10-30\nEUR,1.08\n", "line 3.*3 fields"),
        ("currency,rate,date\nUSD,1,2026-10-30\nEUR,1.08,2026-10-30\nEUR,1.09,2026-10-30\n", "line 4.*twice"),
        ("currency,rate,date\nEUR,1.08,2026-10-30\n", "no row for USD"),
        ("currency,rate,date\nUSD,0.93,2026-10-30\n", "USD is the reporting currency.*must be 1, not 0.93"),
    ],
)
def test_bad_rates_files_say_what_is_wrong(text, cause):
    with pytest.raises(fx.RatesError, match=cause):
        fx.parse_rates(text, "USD")


def test_bundled_rates_are_to_usd_and_cover_the_sample_currencies():
    rates = fx.load_rates(CONFIG_DIR / "fx_rates.csv", "USD").on(date(2026, 11, 1))
    assert {"usd", "eur", "gbp", "jpy"} <= set(rates)
    assert 0.005 < rates["jpy"][0] < 0.01 and 1.0 < rates["eur"][0] < 1.3 and 1.1 < rates["gbp"][0] < 1.5


def test_settings_default_to_usd_and_the_bundled_rates(tmp_path):
    settings = Settings.from_env({"UDS_DATA_DIR": str(tmp_path)})
    assert settings.reporting_currency == "USD"
    assert settings.fx_rates_file == CONFIG_DIR / "fx_rates.csv"
    assert (
        fx.load_rates(settings.fx_rates_file, settings.reporting_currency).on(date(2026, 11, 1))["usd"][0]
        == 1.0
    )


def test_settings_read_a_rates_file_to_another_reporting_currency(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("currency,rate,date\nEUR,1,2026-10-30\nUSD,0.92,2026-10-30\n")
    settings = Settings.from_env(
        {"UDS_DATA_DIR": str(tmp_path), "UDS_REPORTING_CURRENCY": "eur", "UDS_FX_RATES": str(path)}
    )
    assert settings.reporting_currency == "EUR"
    assert fx.load_rates(settings.fx_rates_file, settings.reporting_currency).on(date(2026, 11, 1))[
        "usd"
    ] == (0.92, date(2026, 10, 30))


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"UDS_REPORTING_CURRENCY": "dollars"}, "UDS_REPORTING_CURRENCY='dollars'"),
        ({"UDS_FX_RATES": "/no/such/rates.csv"}, "UDS_FX_RATES=.*no such file"),
        # the bundled rates are to USD: reporting in EUR needs a file of rates to EUR
        ({"UDS_REPORTING_CURRENCY": "EUR"}, "UDS_FX_RATES=.*EUR.*must be 1.*lists USD at rate 1"),
    ],
)
def test_bad_fx_settings_name_the_variable_and_the_cause(env, match, tmp_path):
    with pytest.raises(ConfigError, match=match):
        Settings.from_env({"UDS_DATA_DIR": str(tmp_path), **env})


def test_a_broken_rates_file_fails_at_start_naming_variable_and_line(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("currency,rate,date\nUSD,1,2026-10-30\nGBP,1.27,yesterday\n")
    with pytest.raises(ConfigError, match=r"UDS_FX_RATES=.*rates\.csv.*line 3.*yesterday"):
        Settings.from_env({"UDS_DATA_DIR": str(tmp_path), "UDS_FX_RATES": str(path)})


def test_rates_sql_is_a_relation_of_lower_case_currencies(tmp_path):
    import duckdb

    con = duckdb.connect()
    assert con.execute(f"SELECT * FROM ({fx.rates_sql({'usd': 1.0, 'jpy': 0.0067})}) ORDER BY 1").fetchall() == [
        ("jpy", 0.0067), ("usd", 1.0)]  # fmt: skip
    assert con.execute(f"SELECT count(*) FROM ({fx.rates_sql({})})").fetchone() == (0,)


# The ECB files' own layouts: the history file (ISO dates, N/A for currencies not quoted that day)
# and the daily file (a long date, spaces after commas, a trailing comma).
ECB_HISTORY = """Date,USD,JPY,GBP,CYP,
2026-10-30,1.1580,177.61,0.87133,N/A,
2026-10-29,1.1600,178.00,0.87000,N/A,
"""
ECB_DAILY = "Date, USD, JPY, GBP, \n30 October 2026, 1.1580, 177.61, 0.87133, \n"


def test_ecb_reference_rates_become_rates_to_the_reporting_currency():
    text = fx_ecb.ecb_to_rates(ECB_HISTORY, "USD", since=date(2026, 10, 30))
    rates = fx.parse_rates(text, "USD").on(date(2026, 10, 30))
    assert set(rates) == {"usd", "eur", "jpy", "gbp"}  # CYP not quoted: no row
    assert rates["eur"][0] == pytest.approx(1.158)  # USD per EUR
    assert rates["jpy"][0] == pytest.approx(1.158 / 177.61)  # about 0.00652 USD per yen
    assert rates["gbp"][0] == pytest.approx(1.158 / 0.87133)
    assert fx.parse_rates(text, "USD").rates["eur"].keys() == {date(2026, 10, 30)}  # since
    assert fx_ecb.ecb_to_rates(ECB_DAILY, "USD") == text
    to_eur = fx.parse_rates(fx_ecb.ecb_to_rates(ECB_DAILY, "EUR"), "EUR").on(date(2026, 10, 30))
    assert to_eur["eur"][0] == 1.0 and to_eur["usd"][0] == pytest.approx(1 / 1.158)


def test_ecb_file_without_the_reporting_currency_is_an_error():
    with pytest.raises(fx.RatesError, match="KRW"):
        fx_ecb.ecb_to_rates(ECB_DAILY, "KRW")
    with pytest.raises(fx.RatesError, match="Date"):
        fx_ecb.ecb_to_rates("currency,rate,date\n", "USD")
