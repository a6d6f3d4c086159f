"""Predicted traits: fitted purchase, spend and retention models with their holdout check."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.lake_specs import file_table_result, table_specs
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.masking import preview_markdown
from uds_pipelines.lib.predictions.holdout import markdown as holdout_markdown
from uds_pipelines.lib.predictions.orders import ORDER_FACT_TABLES
from uds_pipelines.lib.predictions.stage import PredictionsStage, build_predictions


def _holdout_tables(stage: PredictionsStage) -> str:
    parts = [
        f"### {m.currency.upper()}\n\n{holdout_markdown(m.holdout)}" for m in stage.currencies if m.holdout
    ]
    return "\n\n".join(parts) or "No holdout check ran (see notes)."


@dg.multi_asset(
    name="customer_predictions",
    description="Predicted traits per customer: probability alive, expected purchases, churn risk, 12-month value.",
    specs=table_specs(
        ["customer_predictions", "prediction_models"],
        group=c.GROUP_PROFILES,
        kinds={"duckdb", "parquet", "scipy"},
        deps=list(ORDER_FACT_TABLES),
    ),
)
def customer_predictions(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Predicted traits per customer: probability alive, expected purchases, churn risk, 12-month value."""
    settings = uds.settings()
    stage = build_predictions(settings, rebuild=context.run.tags.get(c.REBUILD_TAG) == "true")
    for warning in stage.warnings:
        context.log.warning(warning)
    warnings = "\n".join(f"- **Warning:** {w}" for w in stage.warnings)
    # whether this run fitted the models or scored with the stored ones (lib/predictions/model_store.py)
    refit = {
        "refit": stage.refit_reason is not None,
        "refit_reason": stage.refit_reason or "none: scored with the stored models",
        "models_fitted_as_of": stage.fitted_as_of.isoformat(),
    }
    yield file_table_result(settings.lake_dir, "prediction_models", 1, **refit)
    yield file_table_result(
        settings.lake_dir,
        "customer_predictions",
        stage.rows,
        model_version=stage.model_version or "none",
        **refit,
        fitted_models=dg.MetadataValue.json({m.currency: m.figures() for m in stage.currencies}),
        subscriber_model=dg.MetadataValue.json(stage.subscribers.figures()),
        holdout=dg.MetadataValue.md(_holdout_tables(stage)),
        **{
            f"holdout_error_{m.currency}": dg.MetadataValue.float(round(m.holdout.aggregate_error, 4))
            for m in stage.currencies
            if m.holdout and m.holdout.aggregate_error is not None
        },  # fmt: skip
        preview=dg.MetadataValue.md(preview_markdown(stage.preview)),
        **({"warnings": dg.MetadataValue.md(warnings)} if warnings else {}),
        **({"notes": dg.MetadataValue.json(stage.notes)} if stage.notes else {}),
    )
