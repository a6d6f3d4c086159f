"""Materializing the inputs of identity resolution from staging and landed tables."""

from __future__ import annotations

from pathlib import Path

import duckdb

from uds_pipelines.lib import lake_views
from uds_pipelines.lib.identity.rejections import write_rejected_identifiers
from uds_pipelines.lib.identity.sources import identifiers_sql, person_records_sql


def build_identity_inputs(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, default_region: str
) -> dict[str, int]:
    """Write `person_records` (raw attributes per source record), normalized `identifiers` and the
    emails and phones the normalizers refused (`rejected_identifiers`, with the reason).

    `con` holds the catalog views of `lake_dir` (`lib.connection.connect(lake_dir)`); each write
    refreshes its view, so `identifiers` and `rejected_identifiers` read the records just written.
    """
    n_records = lake_views.write_query(con, lake_dir, "person_records", person_records_sql())
    n_ids = lake_views.write_query(con, lake_dir, "identifiers", identifiers_sql(default_region))
    n_rejected = write_rejected_identifiers(con, lake_dir, default_region)
    return {"person_records": n_records, "identifiers": n_ids, "rejected_identifiers": n_rejected}
