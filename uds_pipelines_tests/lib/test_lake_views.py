"""lib/lake_views: a view per catalog table, added columns filled in, writes checked against the catalog."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from uds_pipelines.lib import catalog, connection, lake_views
from uds_pipelines.lib.lake_views import CatalogMismatch


def _described(con, name):
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {name}").fetchall()]


def _declared(name):
    table = catalog.table(name)
    partition = [(table.partitioned_by, "DATE")] if table.partitioned_by else []  # from the folder names
    return [(f.name, catalog.duckdb_type(f.type)) for f in table.schema] + partition


def test_every_table_is_a_typed_view_on_an_empty_lake(tmp_path):
    con = connection.connect(tmp_path / "lake")
    for name in catalog.TABLES:
        assert _described(con, name) == _declared(name), name
        assert con.execute(f"SELECT count(*) FROM {name}").fetchone() == (0,)


def test_a_connection_for_the_derived_layers_has_their_views_only(tmp_path):
    con = connection.connect(tmp_path / "lake", layers=connection.DERIVED_LAYERS)
    views = {
        r[0]
        for r in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = 'temp'").fetchall()
    }
    derived = {n for n in catalog.TABLES if catalog.table(n).layer in connection.DERIVED_LAYERS}
    assert views == derived
    assert {"customer_profiles", "identity_map", "stripe_charges", "suppression", "audience_members"} <= views
    assert not views & {"landed_forms", "landed_files", "events", "quarantine", "person_events"}
    with_events = connection.connect(
        tmp_path / "lake", layers=connection.DERIVED_LAYERS, tables=("person_events",)
    )
    more = {
        r[0]
        for r in with_events.execute(
            "SELECT view_name FROM duckdb_views() WHERE database_name = 'temp'"
        ).fetchall()
    }
    assert more == views | {"events", "person_events"}


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


def test_a_partitioned_table_reads_its_day_folders_with_the_day_column(tmp_path):
    lake_dir = tmp_path / "lake"
    events = catalog.table("events")
    for day, ids in (("2026-12-05", ["a", "b"]), ("2026-12-06", ["c"])):
        rows = {c: pa.array([None] * len(ids), events.arrow_type(c)) for c in events.columns}
        rows["message_id"] = pa.array(ids, pa.string())
        lake_views.write_arrow(
            lake_dir, "events", pa.table(rows), batch_name=f"day={day}/events-{day}.parquet"
        )
    (lake_dir / events.path / "stray.parquet").write_bytes(b"not a batch: outside the day folders")
    con = connection.connect(lake_dir)
    assert _described(con, "events") == _declared("events")
    by_day = con.execute(
        "SELECT day::VARCHAR, list(message_id ORDER BY message_id) FROM events GROUP BY 1 ORDER BY 1"
    )
    assert by_day.fetchall() == [("2026-12-05", ["a", "b"]), ("2026-12-06", ["c"])]
    assert lake_views.row_count(lake_dir, "events") == 3
    assert [p.parent.name for p in lake_views.table_files(lake_dir, "events")] == [
        "day=2026-12-05",
        "day=2026-12-06",
    ]
