"""Landing steps for parsed inbox sources: survey exports, form submissions, privacy requests.

Each step materializes the landed tables it owns (`landed_survey_responses` and
`landed_survey_answers`, `landed_forms`, `landed_privacy`) and reports its appends to the shared
folders (`landed_consent`, `landed_files`, `quarantine`)."""

import dagster as dg
import pandas as pd

from uds_pipelines import constants as c
from uds_pipelines.defs.lake_specs import SHARED_FOLDER_SPECS, table_specs, tables_of_step
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import catalog, lake_views
from uds_pipelines.lib.ingest.landing import SourceSpec
from uds_pipelines.lib.ingest.stage import FORMS, PRIVACY, SURVEYS, LandingStage, land_source
from uds_pipelines.lib.masking import preview_markdown


class LandingConfig(dg.Config):
    """Files to land (names in the inbox folder); empty means every complete file waiting there."""

    files: list[str] = []
    max_files: int = 0  # 0: no cap (uds-run lands everything); sensors already ask in chunks


CONSERVATION_DESCRIPTION = (
    "Every record read from each inbox file is either landed, quarantined or a known duplicate."
)


def conservation_spec(table: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(c.CHECK_CONSERVATION, asset=table, description=CONSERVATION_DESCRIPTION)


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


def shared_folder_events(step: str, summary) -> list[dg.AssetMaterialization]:
    """What a landing step appended to the shared folders (external assets): the file ledger,
    quarantine and, for sources that carry consent, the landed consent statements."""
    events = []
    for spec in SHARED_FOLDER_SPECS:
        name = spec.key.to_user_string()
        t = catalog.table(name)
        if step not in (t.owner, *t.also_written_by):
            continue
        if name == "quarantine":
            added = {"rows_added": summary.records_quarantined}
        elif name == "landed_files":
            added = {"files_recorded": len(summary.new_files)}
        else:
            added = {"from_records_landed": summary.records_landed}
        if not any(added.values()):
            continue
        events.append(dg.AssetMaterialization(asset_key=name, metadata={"written_by": step, **added}))
    return events


def landing_metadata(summary, preview: pd.DataFrame | None) -> dict:
    return {
        "records_landed": summary.records_landed,
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


def build_landing_asset(step: str, spec: SourceSpec, description: str) -> dg.AssetsDefinition:
    """The landing step `step`: one asset per catalog table it owns (the first carries the landing
    figures and the conservation check); it reports what it appended to the shared folders."""
    tables = tables_of_step(step)
    primary = tables[0]

    @dg.multi_asset(
        name=step,
        description=description,
        specs=table_specs(tables, group=c.GROUP_INGEST, kinds={"parquet", "python"}),
        check_specs=[conservation_spec(primary)],
    )
    def _landing(context: dg.AssetExecutionContext, config: LandingConfig, uds: UdsSettingsResource):
        stage = land_source(uds.settings(), spec, config.files, config.max_files)
        summary = stage.summary
        context.log.info(
            f"{spec.source}: {len(summary.files)} file(s), {summary.records_landed} records landed, "
            f"{summary.records_quarantined} quarantined, {summary.duplicate_files} already landed"
        )
        for event in shared_folder_events(step, summary):
            context.log_event(event)
        lake_dir = uds.settings().lake_dir
        # `dagster/row_count` is each table's total, as the catalog shows it; this run's batch is
        # `records_landed`
        yield dg.MaterializeResult(
            asset_key=primary,
            metadata=landing_metadata(summary, stage.preview)
            | {"dagster/row_count": lake_views.row_count(lake_dir, primary)},
        )
        for table in tables[1:]:
            yield dg.MaterializeResult(
                asset_key=table,
                metadata={
                    "files_landed": len(summary.new_files),
                    "dagster/row_count": lake_views.row_count(lake_dir, table),
                },
            )
        yield conservation_check(stage, primary)

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
