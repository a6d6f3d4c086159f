"""Hand-built lakes for profile tests: typed staging and landed tables, profiles through the real SQL."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uds_pipelines.lib import catalog, connection, lake
from uds_pipelines.lib.identity.sources import person_records_sql
from uds_pipelines.lib.profiles.build import profiles_sql

NO_CONSENT = "(SELECT NULL::VARCHAR AS customer_id, NULL::BOOLEAN AS consent_email_marketing WHERE false)"


def columns(table: str) -> dict[str, str]:
    """A catalog table's columns and their DuckDB types (for `write`)."""
    return {f.name: catalog.duckdb_type(f.type) for f in catalog.table(table).schema}


def write(lake_dir: Path, name: str, rows: list[dict], columns: dict[str, str] | None = None) -> None:
    """Write `rows` as a Parquet file (the one batch of a folder table named by its path); columns of `columns` missing from every row are added as nulls."""
    frame = pd.DataFrame(rows)
    for column, sql_type in (columns or {}).items():
        if column not in frame:
            frame[column] = pd.Series(
                [None] * len(frame), dtype="datetime64[us, UTC]" if "TIMESTAMP" in sql_type else object
            )
    target = lake_dir / name
    if any(t.kind == "folder" and t.path == name for t in catalog.TABLES.values()):
        target = target / "part-fixture.parquet"  # a folder table's path: one batch file in it
    lake.write_parquet_atomic(frame, target)


def identity_map(lake_dir: Path, people: dict[str, list[tuple[str, str]]]) -> None:
    """`people`: customer_id -> [(source, record_id), ...]."""
    rows = [
        {"source": source, "record_id": record_id, "customer_id": customer_id}
        for customer_id, records in people.items()
        for source, record_id in records
    ]
    write(lake_dir, catalog.table("identity_map").path, rows)


def build(lake_dir: Path, rates: dict[str, float] | None = None):
    """(profiles indexed by customer_id, connection holding the `records` table and the lake's views);
    `rates`: lower-case currency -> USD per unit (default: USD only)."""
    con = connection.connect(lake_dir, default_region="US")
    con.execute(f"CREATE TABLE records AS {person_records_sql()}")
    sql = profiles_sql(NO_CONSENT, ("email_marketing",), "US", records_table="records", rates=rates)
    return con.execute(sql).df().set_index("customer_id"), con


def write_profiles(lake_dir: Path) -> pd.DataFrame:
    """Build profiles from the lake and write them where the KPIs read them."""
    profiles, con = build(lake_dir)
    con.close()
    lake.write_parquet_atomic(profiles.reset_index(), catalog.path(lake_dir, "customer_profiles"))
    return profiles
