"""lib/lake_views: a view per catalog table, added columns filled in, writes checked against the catalog."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from uds_pipelines.lib import catalog, connection, lake_views
from uds_pipelines.lib.lake_views import CatalogMismatch


def _described(con, name):
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {name}").fetchall()]


def _declared(name):
    return [(f.name, catalog.duckdb_type(f.type)) for f in catalog.table(name).schema]


def test_every_table_is_a_typed_view_on_an_empty_lake(tmp_path):
    con = connection.connect(tmp_path / "lake")
    for name in catalog.TABLES:
        assert _described(con, name) == _declared(name), name
        assert con.execute(f"SELECT count(*) FROM {name}").fetchone() == (0,)


def test_batches_written_before_a_column_was_added_read_it_as_its_default(tmp_path):
    lake_dir = tmp_path / "lake"
    forms = catalog.table("landed_forms")
    old = pa.table({c: pa.array(["x"], forms.arrow_type(c)) for c in ("submission_id", "email")})
    (lake_dir / forms.path).mkdir(parents=True)
    pq.write_table(old, lake_dir / forms.path / "old.parquet")
    records = catalog.table("person_records")
    old_records = pa.table({"source": ["form"], "record_id": ["r1"]})
    (lake_dir / records.path).parent.mkdir(parents=True)
    pq.write_table(old_records, lake_dir / records.path)

    con = connection.connect(lake_dir)
    assert con.execute("SELECT submission_id, external_id FROM landed_forms").fetchall() == [("x", None)]
    assert con.execute("SELECT record_id, deleted, created_at FROM person_records").fetchall() == [
        ("r1", False, None)
    ]


def test_a_batch_with_the_column_wins_over_the_default(tmp_path):
    lake_dir = tmp_path / "lake"
    folder = lake_dir / catalog.table("landed_forms").path
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"submission_id": ["old"]}), folder / "a.parquet")
    pq.write_table(pa.table({"submission_id": ["new"], "external_id": ["E1"]}), folder / "b.parquet")
    con = connection.connect(lake_dir)
    rows = con.execute("SELECT submission_id, external_id FROM landed_forms ORDER BY 1").fetchall()
    assert rows == [("new", "E1"), ("old", None)]


def test_write_query_checks_names_order_and_types(tmp_path):
    lake_dir = tmp_path / "lake"
    con = connection.connect(lake_dir)
    good = "SELECT 'c1' AS customer_id, 'vip' AS segment, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS entered_at"
    assert lake_views.write_query(con, lake_dir, "segment_membership", good) == 1
    assert con.execute("SELECT customer_id FROM segment_membership").fetchall() == [("c1",)]  # view refreshed

    for bad in (
        "SELECT 'c1' AS customer_id, 'vip' AS segment",  # a column missing
        "SELECT 'vip' AS segment, 'c1' AS customer_id, now() AS entered_at",  # order
        "SELECT 'c1' AS customer_id, 'vip' AS segment, '2026-01-01' AS entered_at",  # type
    ):
        with pytest.raises(CatalogMismatch, match="segment_membership"):
            lake_views.write_query(con, lake_dir, "segment_membership", bad)
    assert con.execute("SELECT count(*) FROM segment_membership").fetchone() == (1,)  # untouched


def test_configured_consent_columns_may_differ_but_must_be_boolean():
    profiles = catalog.table("customer_profiles")
    fixed = [c for c in _declared("customer_profiles") if not c[0].startswith("consent_")]
    lake_views.check_columns(profiles, [*fixed, ("consent_newsletter", "BOOLEAN")])
    with pytest.raises(CatalogMismatch, match="consent_"):
        lake_views.check_columns(profiles, [*fixed, ("consent_newsletter", "VARCHAR")])


def test_folder_tables_take_a_batch_name_and_file_tables_do_not(tmp_path):
    lake_dir = tmp_path / "lake"
    quarantine = catalog.table("quarantine").empty()
    with pytest.raises(ValueError, match="batch"):
        lake_views.write_arrow(lake_dir, "quarantine", quarantine)
    written = lake_views.write_arrow(lake_dir, "quarantine", quarantine, batch_name="b.parquet")
    assert written == lake_dir / "quarantine" / "b.parquet"
    with pytest.raises(ValueError, match="one file"):
        lake_views.write_arrow(lake_dir, "suppression", catalog.table("suppression").empty(), batch_name="x")
