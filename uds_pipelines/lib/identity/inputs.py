"""Materializing the inputs of identity resolution from staging and landed tables."""

from __future__ import annotations

from pathlib import Path

import duckdb

from uds_pipelines.lib import lake
from uds_pipelines.lib.identity.rejections import write_rejected_identifiers
from uds_pipelines.lib.identity.sources import identifiers_sql, person_attributes_sql, person_records_sql
from uds_pipelines.lib.lake import IDENTIFIERS, PERSON_RECORDS


def build_identity_inputs(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, default_region: str
) -> dict[str, int]:
    """Write `person_records` (raw attributes per source record), normalized `identifiers` and the
    emails and phones the normalizers refused (`rejected_identifiers`, with the reason)."""
    records = lake_dir / PERSON_RECORDS
    n_records = lake.copy_query_to_parquet(con, person_records_sql(lake_dir), records)
    records_sql = lake.read_table_sql(records, {"source": "VARCHAR", "record_id": "VARCHAR"})
    n_ids = lake.copy_query_to_parquet(
        con, identifiers_sql(records_sql, default_region), lake_dir / IDENTIFIERS
    )
    n_rejected = write_rejected_identifiers(con, records_sql, lake_dir, default_region)
    return {"person_records": n_records, "identifiers": n_ids, "rejected_identifiers": n_rejected}


def attributes_sql(lake_dir: Path) -> str:
    return person_attributes_sql(lake.parquet_relation(lake_dir / PERSON_RECORDS))
