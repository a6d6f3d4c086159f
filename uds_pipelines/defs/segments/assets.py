"""Segment membership from YAML definitions, with history of who entered and left."""

import dagster as dg
import pandas as pd

from uds_pipelines import constants as c
from uds_pipelines.defs.lake_specs import file_table_result, table_specs, tables_of_step
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.segments.stage import build_segments


@dg.multi_asset(
    name="segment_membership",
    description="Who is in each segment (UDS_SEGMENTS_FILE) as of UDS_AS_OF, and since when.",
    specs=table_specs(
        tables_of_step("segment_membership"),
        group=c.GROUP_SEGMENTS,
        kinds={"duckdb", "parquet"},
        deps=["customer_profiles"],
    ),
    check_specs=[
        dg.AssetCheckSpec(
            c.CHECK_SEGMENTS_VALID,
            asset="segment_membership",
            description="Every segment definition in UDS_SEGMENTS_FILE parses and runs (invalid ones are skipped).",
        )
    ],
)
def segment_membership(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Who is in each segment (UDS_SEGMENTS_FILE) as of UDS_AS_OF, and since when."""
    settings = uds.settings()
    stage = build_segments(settings)
    errors, written = stage.errors, stage.written
    for error in errors:
        context.log.error(f"segment {error.name!r} skipped: {error.message}")
    counts = pd.DataFrame(sorted(stage.counts.items()), columns=["segment", "members"])
    yield file_table_result(
        settings.lake_dir,
        "segment_membership",
        written.get("segment_membership"),
        members_by_segment=dg.MetadataValue.md(counts.to_markdown(index=False) if len(counts) else "none"),
    )
    yield file_table_result(
        settings.lake_dir,
        "segment_history",
        written.get("segment_history"),
        entered_and_exited_this_run=dg.MetadataValue.md(
            stage.movements.to_markdown(index=False) if len(stage.movements) else "none"
        ),
    )
    yield dg.AssetCheckResult(
        asset_key="segment_membership",
        check_name=c.CHECK_SEGMENTS_VALID,
        passed=not errors,
        metadata={
            "errors": dg.MetadataValue.md("\n".join(f"- `{e.name}`: {e.message}" for e in errors) or "none")
        },
    )
