"""Segment membership from YAML definitions, with history of who entered and left."""

import dagster as dg
import pandas as pd

from uds_pipelines import constants as c
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.segments.stage import build_segments


@dg.asset(
    group_name=c.GROUP_SEGMENTS,
    kinds={"duckdb", "parquet"},
    owners=c.OWNERS,
    deps=["customer_profiles"],
    check_specs=[dg.AssetCheckSpec(c.CHECK_SEGMENTS_VALID, asset="segment_membership")],
)
def segment_membership(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Who is in each segment (UDS_SEGMENTS_FILE) as of UDS_AS_OF, and since when."""
    stage = build_segments(uds.settings())
    errors, written = stage.errors, stage.written
    for error in errors:
        context.log.error(f"segment {error.name!r} skipped: {error.message}")
    counts = pd.DataFrame(sorted(stage.counts.items()), columns=["segment", "members"])
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": written["segment_membership"],
            "history_rows": written["segment_history"],
            "entered_and_exited_this_run": dg.MetadataValue.md(
                stage.movements.to_markdown(index=False) if len(stage.movements) else "none"
            ),
            "members_by_segment": dg.MetadataValue.md(
                counts.to_markdown(index=False) if len(counts) else "none"
            ),
        }
    )
    yield dg.AssetCheckResult(
        check_name=c.CHECK_SEGMENTS_VALID,
        passed=not errors,
        metadata={
            "errors": dg.MetadataValue.md("\n".join(f"- `{e.name}`: {e.message}" for e in errors) or "none")
        },
    )
