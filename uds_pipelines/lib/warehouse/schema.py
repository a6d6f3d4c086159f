"""The warehouse schema for BI and reverse ETL: every keyed table, where it comes from, its key.

This is the one place warehouse keys are declared (docs/warehouse.md describes the columns). A
table's columns are those of its source, so a column the lake gains (a consent purpose, a
reporting-currency figure) reaches the warehouse without a change here; the key is what a BI
model joins on and what Census or Hightouch use as the sync's primary key.
"""

from __future__ import annotations

from dataclasses import dataclass

# Set to the publish time when a row is inserted or any of its values changes, never on an
# unchanged row: an incremental sync reads `WHERE _uds_updated_at > <last sync>`.
UPDATED_AT = "_uds_updated_at"
# One row per keyed table: its key and a fingerprint of its columns, so a changed layout rebuilds
# the table instead of failing the upsert (and BI tools can see which tables are managed).
META_TABLE = "uds_warehouse_tables"


@dataclass(frozen=True)
class WarehouseTable:
    name: str
    source: str  # the lake catalog table it is read from; `customer_kpis` is computed
    keys: tuple[str, ...]
    description: str
    # SQL condition on the source rows (the lake view's columns) for rows the warehouse leaves out
    where: str | None = None
    # source columns left out: values that change on every run without the row changing
    exclude: tuple[str, ...] = ()
    # the SELECT list over the source, when its columns are not taken as they are
    select: str | None = None
    # History tables: rows missing from the source are deleted only where these columns take a
    # value the source has (a day's KPIs replace that day's, earlier days stay).
    replace_within: tuple[str, ...] = ()
    # Per-person rows: the table has `customer_id`, by which an erasure deletes them.
    per_person: bool = True


_DECLARED = (
    WarehouseTable(
        "customer_profiles",
        "customer_profiles",
        ("customer_id",),
        "One row per active customer: golden attributes, revenue, engagement, consent, RFM scores.",
    ),
    WarehouseTable(
        "segment_membership",
        "segment_membership",
        ("segment", "customer_id"),
        "Current members of each segment.",
    ),
    WarehouseTable(
        "segment_history",
        "segment_history",
        ("segment", "customer_id", "entered_at"),
        "Every stay of a person in a segment (open while `exited_at` is null).",
        # A stay opened and closed at the same instant (two runs with one UDS_AS_OF) was never a
        # membership, and would share its key with the stay reopened at that instant.
        where="exited_at IS NULL OR exited_at > entered_at",
    ),
    WarehouseTable(
        "identity_map",
        "identity_map",
        ("source", "record_id"),
        "Which customer each source record belongs to.",
    ),
    WarehouseTable(
        "effective_consent",
        "effective_consent",
        ("customer_id", "purpose"),
        "The consent in force per customer and purpose.",
    ),
    WarehouseTable(
        "audience_members",
        "audience_members",
        ("audience", "customer_id"),
        "Members of the audiences whose destinations include `warehouse`.",
        # the run's time on every row: kept, it would mark every member changed on every run
        exclude=("exported_at",),
    ),
    WarehouseTable(
        "customer_kpis",
        # the KPI stage's lake table (as_of, kpi, currency, value) where the catalog has it, else
        # computed as the `customer_kpis` asset computes them
        "customer_kpis",
        ("as_of_date", "kpi", "currency"),
        "Daily KPIs, one row per KPI and currency ('' for figures that are not money).",
        replace_within=("as_of_date",),
        per_person=False,
        # A key column is never NULL, so "no currency" is ''. The day, not the instant: a rerun
        # the same day replaces that day's figures instead of adding a row per run.
        select="CAST(timezone('UTC', as_of) AS DATE) AS as_of_date, kpi, coalesce(upper(currency), '') "
        "AS currency, CAST(value AS DOUBLE) AS value",
    ),
)

WAREHOUSE_TABLES: dict[str, WarehouseTable] = {t.name: t for t in _DECLARED}
