"""Landing assets for parsed inbox sources: survey exports, form submissions, privacy requests."""

import dagster as dg
import pandas as pd

from uds_pipelines import constants as c
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.ingest.landing import SourceSpec
from uds_pipelines.lib.ingest.stage import FORMS, PRIVACY, SURVEYS, LandingStage, land_source
from uds_pipelines.lib.masking import preview_markdown


class LandingConfig(dg.Config):
    """Files to land (names in the inbox folder); empty means every complete file waiting there."""

    files: list[str] = []
    max_files: int = 0  # 0: no cap (uds-run lands everything); sensors already ask in chunks


def conservation_check(stage: LandingStage, asset_key: str) -> dg.AssetCheckResult:
    violations = stage.violations
    return dg.AssetCheckResult(
        check_name=c.CHECK_CONSERVATION,
        asset_key=asset_key,
        passed=violations.empty,
        metadata={
            "files_violating": len(violations),
            "violations": dg.MetadataValue.md(
                violations.drop(columns=["sha256"]).head(20).to_markdown(index=False)
                if len(violations)
                else "none"
            ),
        },
    )


def landing_metadata(summary, preview: pd.DataFrame | None) -> dict:
    return {
        "dagster/row_count": summary.records_landed,
        "files_landed": len(summary.new_files),
        "files_already_landed": summary.duplicate_files,
        "files_vanished": summary.vanished_files,
        "records_read": summary.records_read,
        "records_quarantined": summary.records_quarantined,
        "preview": dg.MetadataValue.md(preview_markdown(preview) if preview is not None else "_no rows_"),
        "files": dg.MetadataValue.md(
            pd.DataFrame(summary.files)
            .drop(columns=["sha256", "info"], errors="ignore")
            .head(50)
            .to_markdown(index=False)
            if summary.files
            else "_no files waiting_"
        ),
    }


def build_landing_asset(name: str, spec: SourceSpec, description: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=name,
        group_name=c.GROUP_INGEST,
        kinds={"parquet", "python"},
        owners=c.OWNERS,
        description=description,
        check_specs=[dg.AssetCheckSpec(c.CHECK_CONSERVATION, asset=name)],
    )
    def _landing(context: dg.AssetExecutionContext, config: LandingConfig, uds: UdsSettingsResource):
        stage = land_source(uds.settings(), spec, config.files, config.max_files)
        summary = stage.summary
        context.log.info(
            f"{spec.source}: {len(summary.files)} file(s), {summary.records_landed} records landed, "
            f"{summary.records_quarantined} quarantined, {summary.duplicate_files} already landed"
        )
        yield dg.MaterializeResult(metadata=landing_metadata(summary, stage.preview))
        yield conservation_check(stage, name)

    return _landing


landed_survey_responses = build_landing_asset(
    "landed_survey_responses", SURVEYS, "Survey exports from inbox/surveys, detected and landed in long form."
)
landed_form_submissions = build_landing_asset(
    "landed_form_submissions", FORMS, "Web form submissions from inbox/forms, normalized per provider."
)
landed_privacy_requests = build_landing_asset(
    "landed_privacy_requests", PRIVACY, "Data-subject requests (erasure, access, consent) from inbox/privacy."
)
