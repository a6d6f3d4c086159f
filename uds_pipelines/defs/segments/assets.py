"""Segment membership from YAML definitions, with history of who entered and left."""

import dagster as dg
import pandas as pd

from uds_pipelines import constants as c
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib import lake
from uds_pipelines.lib.identity.inputs import resolution_connection
from uds_pipelines.lib.privacy_exclusions import excluded_customers_sql
from uds_pipelines.lib.segments.definitions import load_segments
from uds_pipelines.lib.segments.membership import compute_membership, write_membership

HISTORY = "segments/segment_history.parquet"


@dg.asset(
    group_name=c.GROUP_SEGMENTS,
    kinds={"duckdb", "parquet"},
    owners=c.OWNERS,
    deps=["customer_profiles"],
    check_specs=[dg.AssetCheckSpec(c.CHECK_SEGMENTS_VALID, asset="segment_membership")],
)
def segment_membership(context: dg.AssetExecutionContext, uds: UdsSettingsResource):
    """Who is in each segment (UDS_SEGMENTS_FILE) as of UDS_AS_OF, and since when."""
    settings = uds.settings()
    lake_dir = settings.lake_dir
    segments, load_errors = load_segments(settings.segments_file)
    con = resolution_connection(settings.default_region, settings.duckdb_memory_limit)
    try:
        history = lake_dir / HISTORY
        result = compute_membership(
            con,
            segments,
            f"read_parquet('{lake_dir / lake.PROFILES}')",
            settings.as_of(),
            previous_history_sql=f"read_parquet('{history}')" if history.exists() else None,
            excluded_customers_sql=excluded_customers_sql(con, lake_dir, settings.suppression_key()),
        )
        written = write_membership(con, result, lake_dir)
    finally:
        con.close()
    errors = load_errors + result.errors
    for error in errors:
        context.log.error(f"segment {error.name!r} skipped: {error.message}")
    counts = pd.DataFrame(sorted(result.counts.items()), columns=["segment", "members"])
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": written["segment_membership"],
            "history_rows": written["segment_history"],
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
