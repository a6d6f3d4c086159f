"""The segment stage as a whole operation over the lake (what the asset runs)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from uds_pipelines.lib import connection
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.privacy.exclusions import excluded_customers_sql
from uds_pipelines.lib.segments.definitions import SegmentError, load_segments
from uds_pipelines.lib.segments.membership import compute_membership, write_membership


@dataclass
class SegmentStage:
    written: dict[str, int]
    counts: dict[str, int]
    errors: list[SegmentError]
    movements: pd.DataFrame  # segment, entered, exited: who moved in this run


def build_segments(settings: Settings) -> SegmentStage:
    """Evaluate every valid segment over the profiles, roll the history forward, write both."""
    lake_dir = settings.lake_dir
    segments, load_errors = load_segments(settings.segments_file)
    con = connection.for_settings(settings, connection.DERIVED_LAYERS)
    try:
        result = compute_membership(
            con,
            segments,
            "customer_profiles",
            settings.as_of(),
            previous_history="segment_history",
            excluded_customers_sql=excluded_customers_sql(con, lake_dir, settings.suppression_key()),
        )
        written = write_membership(con, result, lake_dir)
        movements = con.execute(
            f"""SELECT segment, count(*) FILTER (WHERE entered_at = ?) AS entered,
                       count(*) FILTER (WHERE exited_at = ?) AS exited
                FROM {result.history} GROUP BY segment ORDER BY segment""",
            [settings.as_of(), settings.as_of()],
        ).df()
    finally:
        con.close()
    return SegmentStage(written, result.counts, load_errors + result.errors, movements)
