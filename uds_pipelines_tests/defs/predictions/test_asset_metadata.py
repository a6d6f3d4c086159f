"""What the UI shows about the predictions: fitted parameters, the holdout table, warnings."""

import dagster as dg

from uds_pipelines.defs.predictions.assets import customer_predictions
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines_tests.lib.predictions.lake import AS_OF, build_lake


def _materialize(root) -> dict:
    uds = UdsSettingsResource(data_dir=str(root), as_of=AS_OF)
    with dg.instance_for_test() as instance:
        result = dg.materialize([customer_predictions], resources={"uds": uds}, instance=instance)
    assert result.success
    (predictions,) = [m for m in result.asset_materializations_for_node("customer_predictions")
                      if m.asset_key == dg.AssetKey("customer_predictions")]  # fmt: skip
    return predictions.metadata


def test_metadata_shows_the_fit_and_the_holdout_table(tmp_path):
    build_lake(tmp_path)
    metadata = _materialize(tmp_path)
    usd = metadata["fitted_models"].value["usd"]
    assert usd["model"] in ("bgnbd", "pareto_nbd") and set(usd["spend_params"]) == {"p", "q", "v"}
    assert usd["holdout"]["customers"] > 0
    table = metadata["holdout"].value
    assert table.startswith("### USD") and "| repeat purchases (calibration) | customers |" in table
    assert "| 7+ |" in table
    assert metadata["holdout_error_usd"].value == usd["holdout"]["aggregate_error"]
    assert metadata["subscriber_model"].value["params"].keys() == {"alpha", "beta"}
    assert metadata["dagster/row_count"].value == 340 and "warnings" not in metadata
    version = metadata["model_version"].value
    assert "gamma_gamma" in version and "sbg" in version and ".v1-" in version
    assert metadata["refit"].value is True and metadata["refit_reason"].value == "no stored models"
    assert metadata["models_fitted_as_of"].value == "2025-12-31T00:00:00+00:00"
    again = _materialize(tmp_path)  # the next run scores with the stored models
    assert again["refit"].value is False and again["model_version"].value == version
    assert again["fitted_models"].value == metadata["fitted_models"].value
    spec = next(iter(customer_predictions.specs))
    schema = spec.metadata["dagster/column_schema"]
    assert [col.name for col in schema.columns][:3] == ["customer_id", "currency", "model"]


def test_metadata_warns_when_the_history_is_too_short(tmp_path):
    build_lake(tmp_path, buyers=30, subscribers=5)
    metadata = _materialize(tmp_path)
    assert "**Warning:** USD: no predicted columns: too few buyers to fit" in metadata["warnings"].value
    assert metadata["holdout"].value == "No holdout check ran (see notes)."
    assert metadata["dagster/row_count"].value == 0 and metadata["model_version"].value == "none"
