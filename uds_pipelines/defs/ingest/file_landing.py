"""Landing assets for parsed inbox sources: survey exports, form submissions, privacy requests."""

import functools
from pathlib import Path

import dagster as dg
import pandas as pd

from uds_pipelines import constants as c
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import lake
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.ingest import inbox
from uds_pipelines.lib.ingest.conservation import conservation_violations
from uds_pipelines.lib.ingest.forms import parse_form_file
from uds_pipelines.lib.ingest.landing import SourceSpec, land_files
from uds_pipelines.lib.ingest.privacy_requests import parse_privacy_file
from uds_pipelines.lib.ingest.suppression_gate import gate_frame, suppression_active
from uds_pipelines.lib.ingest.surveys import parse_survey_file
from uds_pipelines.lib.masking import preview_markdown


class LandingConfig(dg.Config):
    """Files to land (names in the inbox folder); empty means every complete file waiting there."""

    files: list[str] = []
    max_files: int = 0  # 0: no cap (uds-run lands everything); sensors already ask in chunks


def selected_paths(folder: Path, config: LandingConfig) -> list[Path]:
    waiting = inbox.list_inbox(folder)
    if config.files:
        wanted = set(config.files)
        waiting = [f for f in waiting if f.name in wanted]
    return [f.path for f in (waiting[: config.max_files] if config.max_files else waiting)]


def conservation_check(
    lake_dir: Path, source: str, table: str | None, asset_key: str, landed_now: set[str] | None = None
) -> dg.AssetCheckResult:
    violations = conservation_violations(lake_dir, source, table, landed_now)
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
        "files_landed": len([f for f in summary.files if not f.get("duplicate_file")]),
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


def _land(spec: SourceSpec, config: LandingConfig, settings: Settings):
    inbox.release_stale_claims(settings.inbox(spec.source))
    paths = selected_paths(settings.inbox(spec.source), config)
    gate = None
    # A suppressed person may still send privacy requests, so those are never gated.
    if spec.source != "privacy" and suppression_active(settings.lake_dir):
        gate = functools.partial(
            gate_frame,
            key=settings.suppression_key(),
            lake_dir=settings.lake_dir,
            source=spec.record_source,
            default_region=settings.default_region,
        )
    return land_files(spec, paths, settings.lake_dir, gate, settings.external_id_fields)


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
        settings = uds.settings()
        with inbox.landing_lock(settings.locks_dir, spec.source):
            summary = _land(spec, config, settings)
        context.log.info(
            f"{spec.source}: {len(summary.files)} file(s), {summary.records_landed} records landed, "
            f"{summary.records_quarantined} quarantined, {summary.duplicate_files} already landed"
        )
        preview = summary.landed_frames[0] if summary.landed_frames else None
        yield dg.MaterializeResult(metadata=landing_metadata(summary, preview))
        landed_now = {f["sha256"] for f in summary.files if not f.get("duplicate_file")}
        yield conservation_check(settings.lake_dir, spec.source, spec.records_table, name, landed_now)

    return _landing


SURVEYS = SourceSpec(
    "surveys",
    parse_survey_file,
    lake.LANDED_SURVEYS + "/responses",
    {"answers": lake.LANDED_SURVEYS + "/answers"},
    reads_external_ids=True,
)
FORMS = SourceSpec("forms", parse_form_file, lake.LANDED_FORMS, reads_external_ids=True)
PRIVACY = SourceSpec("privacy", parse_privacy_file, lake.LANDED_PRIVACY)

landed_survey_responses = build_landing_asset(
    "landed_survey_responses", SURVEYS, "Survey exports from inbox/surveys, detected and landed in long form."
)
landed_form_submissions = build_landing_asset(
    "landed_form_submissions", FORMS, "Web form submissions from inbox/forms, normalized per provider."
)
landed_privacy_requests = build_landing_asset(
    "landed_privacy_requests", PRIVACY, "Data-subject requests (erasure, access, consent) from inbox/privacy."
)
