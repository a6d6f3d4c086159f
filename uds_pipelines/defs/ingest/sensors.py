"""One sensor per inbox folder: notices complete files and asks for their landing.

A run request targets every asset of the source's landing step (`landed_forms` for forms,
`landed_survey_responses` and `landed_survey_answers` for surveys, ...) and configures that step."""

import dagster as dg

from uds_pipelines.defs.ingest.events import landed_events
from uds_pipelines.defs.ingest.file_landing import (
    landed_form_submissions,
    landed_privacy_requests,
    landed_survey_responses,
)
from uds_pipelines.defs.ingest.stripe import landed_stripe_events
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.ingest.sensor_logic import plan_inbox_runs

LANDING_STEP_BY_SOURCE: dict[str, dg.AssetsDefinition] = {
    "stripe": landed_stripe_events,
    "surveys": landed_survey_responses,
    "forms": landed_form_submissions,
    "privacy": landed_privacy_requests,
    "events": landed_events,
}


def build_inbox_sensor(source: str, step: dg.AssetsDefinition) -> dg.SensorDefinition:
    step_name = step.node_def.name
    keys = sorted(step.keys)

    @dg.sensor(
        name=f"{source}_inbox_sensor",
        description=f"Lands new files dropped into inbox/{source}/ (names and stats only; contents are read by the run).",
        asset_selection=keys,
        minimum_interval_seconds=15,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(context: dg.SensorEvaluationContext, uds: UdsSettingsResource):
        folder = uds.settings().inbox(source)
        runs, cursor = plan_inbox_runs(folder, source, context.cursor)
        context.update_cursor(cursor)
        if not runs:
            return dg.SkipReason(f"no new files in inbox/{source}")
        return [
            dg.RunRequest(
                run_key=run.run_key,
                asset_selection=keys,
                run_config={"ops": {step_name: {"config": {"files": run.files}}}},
                tags={"uds/source": source, "uds/files": str(len(run.files))},
            )
            for run in runs
        ]

    return _sensor


stripe_inbox_sensor = build_inbox_sensor("stripe", LANDING_STEP_BY_SOURCE["stripe"])
surveys_inbox_sensor = build_inbox_sensor("surveys", LANDING_STEP_BY_SOURCE["surveys"])
forms_inbox_sensor = build_inbox_sensor("forms", LANDING_STEP_BY_SOURCE["forms"])
privacy_inbox_sensor = build_inbox_sensor("privacy", LANDING_STEP_BY_SOURCE["privacy"])
events_inbox_sensor = build_inbox_sensor("events", LANDING_STEP_BY_SOURCE["events"])
