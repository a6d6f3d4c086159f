"""What the UI shows about currencies: the profiles asset warns (metadata, a WARN check) about
profiles whose currency has no rate; the KPI asset reports LTV per currency, never one mean of all."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.profiles.assets import customer_kpis, customer_profiles
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines_tests.lib.profiles.mixed_currency import RATES_CSV, mixed_currency_lake


def test_profiles_warn_per_currency_without_a_rate_and_kpis_are_per_currency(tmp_path, monkeypatch):
    data = tmp_path / "data"
    mixed_currency_lake(data / "lake")
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES_CSV)
    monkeypatch.setenv("UDS_FX_RATES", str(rates))
    uds = UdsSettingsResource(data_dir=str(data), as_of="2026-11-01T00:00:00Z")
    with dg.instance_for_test() as instance:
        result = dg.materialize([customer_profiles, customer_kpis], resources={"uds": uds}, instance=instance)
    assert result.success
    profiles = result.asset_materializations_for_node("customer_profiles")[0].metadata
    assert profiles["profiles_without_fx_rate"].value == {"CHF": 2}
    assert "2 profile(s) have no lifetime_value_reporting" in profiles["fx_warning"].value
    assert "CHF: 2" in profiles["fx_warning"].value
    assert profiles["reporting_currency"].value == "USD"
    assert profiles["fx_rates_used"].value["JPY"] == {"rate": 0.00652, "date": "2026-10-30"}
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    fx_check = checks[c.CHECK_FX_RATES_COVER_PROFILES]
    assert not fx_check.passed and fx_check.severity == dg.AssetCheckSeverity.WARN
    kpis = result.asset_materializations_for_node("customer_kpis")[0].metadata
    assert kpis["average_ltv_jpy"].value == 50750.0 and kpis["average_ltv_usd"].value == 223.33
    assert kpis["average_ltv_reporting_usd"].value == 302.32
    assert "average_ltv" not in kpis and "median_ltv" not in kpis  # no mean across currencies
    assert "| JPY | 2 | 101500 | 50750 | 50750 |" in kpis["kpis"].value
    assert kpis["dagster/row_count"].value == 8 + 5 * 4 + 5  # 8 plain KPIs, 4 per currency, 5 in USD


def test_profiles_without_missing_rates_pass_the_check(tmp_path, monkeypatch):
    data = tmp_path / "data"
    mixed_currency_lake(data / "lake")
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES_CSV + "CHF,1.247,2026-10-30\n")
    monkeypatch.setenv("UDS_FX_RATES", str(tmp_path / "not-read.csv"))  # the resource field wins
    uds = UdsSettingsResource(data_dir=str(data), as_of="2026-11-01T00:00:00Z", fx_rates=str(rates))
    with dg.instance_for_test() as instance:
        result = dg.materialize([customer_profiles], resources={"uds": uds}, instance=instance)
    metadata = result.asset_materializations_for_node("customer_profiles")[0].metadata
    assert metadata["profiles_without_fx_rate"].value == {} and "fx_warning" not in metadata
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks[c.CHECK_FX_RATES_COVER_PROFILES]
