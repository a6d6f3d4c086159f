"""The warehouse stage over a hand-built lake: every BI table published by its key, a rerun
changes nothing, and an erased person is in no warehouse table after the erasure and the next
publish (SQLite and, when UDS_TEST_POSTGRES_URL is set, PostgreSQL)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
import yaml

from uds_pipelines.lib import catalog, lake, lake_views
from uds_pipelines.lib.audiences.warehouse_stage import kpi_table, publish_warehouse_tables
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.privacy import handle_requests, verify_erased
from uds_pipelines.lib.profiles.stage import build_kpis
from uds_pipelines.lib.warehouse import UPDATED_AT, WAREHOUSE_TABLES, read_table
from uds_pipelines_tests.lib.privacy.helpers import request, resolve
from uds_pipelines_tests.lib.privacy.lakefixture import BOB_CID, JANE_CID, JANE_SPELLINGS, build_lake

T0 = pd.Timestamp("2025-06-01T00:00:00Z")
PER_PERSON = [name for name, spec in WAREHOUSE_TABLES.items() if spec.per_person]


def _full(name: str, rows: list[dict]) -> pa.Table:
    """Rows with every column the catalog declares for `name` (missing ones NULL)."""
    schema = catalog.table(name).schema
    return pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema})


def warehouse_lake(tmp_path, warehouse_url: str) -> tuple[Settings, object]:
    """The privacy tests' lake (Jane and Bob) with full profiles, consent, audience members and a
    `vip` segment with one warehouse and one file-only audience; settings for it. A SQLite URL is
    replaced by the lake's own `data/warehouse.sqlite` (unkeyed tables of an older publish)."""
    lk = build_lake(tmp_path)
    ld = lk.lake_dir
    if warehouse_url.startswith("sqlite"):
        # the default place (data/warehouse.sqlite), holding the unkeyed tables of an older publish
        warehouse_url = lk.warehouse_url
    else:
        for leftover in lk.data_dir.glob("warehouse.sqlite*"):
            leftover.unlink()
        lk = dataclasses.replace(lk, warehouse_url=warehouse_url)
    profiles = pd.read_parquet(ld / catalog.table("customer_profiles").path).assign(
        orders_count=[2, 1], currency="usd", last_order_at=T0, first_order_at=T0
    )
    lake_views.write_arrow(ld, "customer_profiles", _full("customer_profiles", profiles.to_dict("records")))
    consent = [
        {"customer_id": cid, "purpose": "email_marketing", "granted": True, "decided_at": T0}
        for cid in (JANE_CID, BOB_CID)
    ]
    lake_views.write_arrow(ld, "effective_consent", _full("effective_consent", consent))
    members = [
        {"audience": "vip_email", "segment": "vip", "purpose": "email_marketing", "format": "email",
         "customer_id": cid, "email": f"{cid}@example.com", "exported_at": T0}
        for cid in (JANE_CID, BOB_CID)
    ] + [{"audience": "vip_file_only", "segment": "vip", "purpose": "email_marketing", "format": "email",
          "customer_id": BOB_CID, "exported_at": T0}]  # fmt: skip
    lake_views.write_arrow(ld, "audience_members", _full("audience_members", members))
    segments = tmp_path / "segments.yaml"
    segments.write_text(
        yaml.safe_dump({"segments": [{"name": "vip", "description": "all", "where": "true"}]})
    )
    audiences = tmp_path / "audiences.yaml"
    audience = {"segment": "vip", "purpose": "email_marketing", "format": "email", "description": "x"}
    audiences.write_text(
        yaml.safe_dump(
            {
                "audiences": [
                    {"name": "vip_email", "destinations": ["file", "warehouse"], **audience},
                    {"name": "vip_file_only", "destinations": ["file"], **audience},
                ]
            }
        )
    )
    settings = Settings.from_env(
        {
            "UDS_DATA_DIR": str(lk.data_dir),
            "UDS_WAREHOUSE_URL": warehouse_url,
            "UDS_AS_OF": "2026-11-01T00:00:00Z",
            "UDS_SEGMENTS_FILE": str(segments),
            "UDS_AUDIENCES_FILE": str(audiences),
        }
    )
    assert settings.lake_dir == ld
    build_kpis(settings)  # as the customer_kpis asset does before the publish (it may write the lake's KPIs)
    return settings, lk


def _customer_ids(url: str) -> dict[str, set[str]]:
    """Every customer id in every warehouse table that has the column."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        found = {}
        with engine.connect() as conn:
            for table in inspector.get_table_names():
                if "customer_id" in {c["name"] for c in inspector.get_columns(table)}:
                    query = sa.select(sa.column("customer_id")).select_from(sa.table(table))
                    found[table] = {v for (v,) in conn.execute(query)}
    finally:
        engine.dispose()
    return found


def test_every_table_published_by_key_and_a_rerun_changes_nothing(tmp_path, warehouse_url):
    settings, _ = warehouse_lake(tmp_path, warehouse_url)
    warehouse_url = settings.warehouse_url
    first = publish_warehouse_tables(settings).tables
    assert set(first) == set(WAREHOUSE_TABLES)
    assert all(counts.rebuilt and counts.inserted == counts.rows for counts in first.values())
    ids = _customer_ids(warehouse_url)
    for name in PER_PERSON:
        assert ids[name] == {JANE_CID, BOB_CID}, name
    members = read_table(warehouse_url, "audience_members")
    assert set(members["audience"]) == {"vip_email"}  # the file-only audience stays out
    assert "exported_at" not in members.columns  # the run's time would change every row every run
    kpis = read_table(warehouse_url, "customer_kpis").set_index(["kpi", "currency"])
    assert kpis.loc[("customers", ""), "value"] == 2
    assert str(kpis["as_of_date"].iloc[0])[:10] == "2026-11-01"
    stamps = {name: read_table(warehouse_url, name)[UPDATED_AT].tolist() for name in first}
    again = publish_warehouse_tables(settings).tables
    assert {n: (c.inserted, c.updated, c.deleted, c.rebuilt) for n, c in again.items()} == {
        n: (0, 0, 0, False) for n in first
    }
    assert {name: read_table(warehouse_url, name)[UPDATED_AT].tolist() for name in first} == stamps


def test_an_erased_person_is_in_no_warehouse_table(tmp_path, warehouse_url):
    settings, lk = warehouse_lake(tmp_path, warehouse_url)
    warehouse_url = settings.warehouse_url
    publish_warehouse_tables(settings)
    bob_profile = read_table(warehouse_url, "customer_profiles").set_index("customer_id").loc[BOB_CID]
    con = lake.duckdb_connection()
    subjects = resolve(con, lk.lake_dir, [request("req-e1", email="jane.doe@gmail.com")])
    result = handle_requests(
        lk.lake_dir, lk.exports_dir, subjects, key=b"k", warehouse_url=warehouse_url, run_id="r", con=con
    )
    # the erasure itself reaches every per-person warehouse table
    assert set(result.erasure.warehouse_removed) == set(PER_PERSON)
    assert all(JANE_CID not in ids for ids in _customer_ids(warehouse_url).values())
    assert verify_erased(lk.data_dir, warehouse_url, JANE_SPELLINGS | {JANE_CID}) == []
    # ... and the next publish, from the erased lake, brings nobody back and leaves Bob's rows alone
    after = publish_warehouse_tables(settings).tables
    assert all(counts.inserted == 0 for name, counts in after.items() if name in PER_PERSON)
    ids = _customer_ids(warehouse_url)
    assert all(ids[name] == {BOB_CID} for name in PER_PERSON)
    assert verify_erased(lk.data_dir, warehouse_url, JANE_SPELLINGS | {JANE_CID}) == []
    bob_now = read_table(warehouse_url, "customer_profiles").set_index("customer_id").loc[BOB_CID]
    assert bob_now[UPDATED_AT] == bob_profile[UPDATED_AT]


def test_kpis_read_from_the_lake_table_where_the_catalog_has_one(tmp_path, monkeypatch):
    """Once the KPI stage writes `customer_kpis` to the lake (one row per KPI and currency, NULL
    currency for counts and rates), the warehouse takes those rows instead of computing them."""
    kpis = catalog.Table(
        "customer_kpis",
        "profiles/customer_kpis.parquet",
        "file",
        catalog._schema("as_of:timestamp kpi currency value:double"),
        "customer_kpis",
        "derived",
        (),
        "KPIs per currency",
    )
    monkeypatch.setitem(catalog.TABLES, "customer_kpis", kpis)
    settings, _ = warehouse_lake(tmp_path, "sqlite:///unused")
    as_of = pd.Timestamp("2026-11-01T23:30:00-05:00")  # Nov 2 in UTC
    rows = [("customers", None, 2.0), ("average_ltv", "jpy", 1500.0), ("average_ltv", "USD", 12.5)]
    lake_views.write_arrow(
        settings.lake_dir,
        "customer_kpis",
        pa.table(
            {
                "as_of": pa.array([as_of] * 3, pa.timestamp("us", tz="UTC")),
                "kpi": [r[0] for r in rows],
                "currency": [r[1] for r in rows],
                "value": [r[2] for r in rows],
            }
        ),
    )
    publish_warehouse_tables(settings)
    table = read_table(settings.warehouse_url, "customer_kpis")
    assert sorted(zip(table["kpi"], table["currency"], table["value"], strict=True)) == [
        ("average_ltv", "JPY", 1500.0),
        ("average_ltv", "USD", 12.5),
        ("customers", "", 2.0),
    ]
    assert set(table["as_of_date"].astype(str).str[:10]) == {"2026-11-02"}


def test_kpis_as_rows_with_a_currency_key():
    as_of = pd.Timestamp("2026-11-01T23:30:00-05:00").to_pydatetime()  # already Nov 2 in UTC
    table = kpi_table(
        {"customers": 3, "average_ltv": {"usd": 12.5, "JPY": 1500}, "churn_rate": None, "note": "text"}, as_of
    )
    rows = sorted(zip(*(table.column(c).to_pylist() for c in ("kpi", "currency", "value")), strict=True))
    assert rows == [
        ("average_ltv", "JPY", 1500.0),
        ("average_ltv", "USD", 12.5),
        ("churn_rate", "", None),
        ("customers", "", 3.0),
    ]
    assert {str(d) for d in table.column("as_of_date").to_pylist()} == {"2026-11-02"}
    # rows of (kpi, currency or None, value), as a KPI stage that reports per currency gives them
    listed = kpi_table([SimpleNamespace(kpi="average_ltv", currency="jpy", value=1500),
                        SimpleNamespace(kpi="churn_rate", currency=None, value=0.25)], as_of)  # fmt: skip
    assert sorted(
        zip(*(listed.column(c).to_pylist() for c in ("kpi", "currency", "value")), strict=True)
    ) == [
        ("average_ltv", "JPY", 1500.0),
        ("churn_rate", "", 0.25),
    ]
