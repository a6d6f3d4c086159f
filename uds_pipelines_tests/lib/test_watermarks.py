"""The watermark: which landed batches a step has merged."""

from uds_pipelines.lib import catalog, lake, lake_views, watermarks


def _land(lake_dir, table: str, name: str) -> None:
    lake_views.write_arrow(lake_dir, table, catalog.table(table).empty(), batch_name=name)


def test_pending_commit_and_forgetting_deleted_batches(tmp_path):
    con = lake.duckdb_connection()
    _land(tmp_path, "landed_forms", "batch-1.parquet")
    _land(tmp_path, "landed_survey_responses", "batch-s.parquet")
    forms = watermarks.pending(con, tmp_path, "identity_inputs", "landed_forms")
    surveys = watermarks.pending(con, tmp_path, "identity_inputs", "landed_survey_responses")
    assert forms.names == ["batch-1.parquet"] and surveys.names == ["batch-s.parquet"]
    watermarks.commit(con, tmp_path, "identity_inputs", [forms, surveys])

    _land(tmp_path, "landed_forms", "batch-2.parquet")
    assert watermarks.pending(con, tmp_path, "identity_inputs", "landed_forms").names == ["batch-2.parquet"]
    assert watermarks.unmerged(con, tmp_path, "landed_forms") == {"batch-2.parquet"}
    # another step has merged nothing: its own watermark is separate
    assert len(watermarks.pending(con, tmp_path, "stripe_staging", "landed_forms").files) == 2

    # committing one table keeps the step's other tables; a deleted batch is let go
    (catalog.path(tmp_path, "landed_forms") / "batch-1.parquet").unlink()
    watermarks.commit(
        con,
        tmp_path,
        "identity_inputs",
        [watermarks.pending(con, tmp_path, "identity_inputs", "landed_forms")],
    )
    assert watermarks.merged(con, tmp_path, "identity_inputs", "landed_forms") == {"batch-2.parquet"}
    assert watermarks.merged(con, tmp_path, "identity_inputs", "landed_survey_responses") == {
        "batch-s.parquet"
    }

    watermarks.reset(tmp_path, "identity_inputs")
    assert watermarks.unmerged(con, tmp_path, "landed_survey_responses") == {"batch-s.parquet"}


def test_pending_relation_has_the_catalog_columns_even_for_old_files(tmp_path):
    con = lake.duckdb_connection()
    old = catalog.table("landed_forms").empty().drop_columns(["external_id"])  # before the column existed
    lake.write_parquet_atomic(old, catalog.path(tmp_path, "landed_forms") / "old.parquet")
    batches = watermarks.pending(con, tmp_path, "identity_inputs", "landed_forms")
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {batches.relation(con)}").fetchall()]
    assert columns == list(catalog.table("landed_forms").columns)
    none = watermarks.PendingBatches("identity_inputs", "landed_forms", ())
    lake_views.register(con, tmp_path, ["landed_forms"])
    assert con.execute(f"SELECT count(*) FROM {none.relation(con)}").fetchone() == (0,)
