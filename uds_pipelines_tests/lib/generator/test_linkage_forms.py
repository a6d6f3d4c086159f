"""Linkage records written as a flat form CSV land through the real forms landing, every record
with its attributes, and the truth joins back to the pipeline's person records by record id."""

from __future__ import annotations

import hashlib

import pyarrow.parquet as pq

from uds_pipelines.cli.generate import main as cli_main
from uds_pipelines.lib import connection
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.generator.linkage import linkage_frame, write_linkage_forms
from uds_pipelines.lib.identity.sources import person_attributes_sql, person_records_sql
from uds_pipelines.lib.ingest.stage import FORMS, land_source

FIELDS = ["first_name", "last_name", "date_of_birth", "address_line1", "city", "postcode"]


def test_same_seed_writes_identical_files(tmp_path):
    def digests(out):
        paths = write_linkage_forms(out, 200, "high", seed=4)
        return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]

    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    other = write_linkage_forms(tmp_path / "e", 200, "high", seed=5)[0].read_bytes()
    assert other != (tmp_path / "a" / "inbox" / "forms" / "linkage_4.csv").read_bytes()


def test_generated_forms_land_with_every_attribute_and_join_to_the_truth(tmp_path):
    csv_path, truth_path = write_linkage_forms(tmp_path, 60, "high", seed=3)
    assert csv_path == tmp_path / "inbox" / "forms" / "linkage_3.csv"
    assert csv_path.read_text().splitlines()[0] == (
        "submission_id,submitted_at,first_name,last_name,date_of_birth,address_line1,city,postcode"
    )
    expected = linkage_frame(60, "high", seed=3).set_index("record_id")
    truth = pq.read_table(truth_path).to_pandas()
    assert truth["record_id"].tolist() == expected.index.tolist()
    assert truth["person_id"].tolist() == expected["person_id"].tolist()

    settings = Settings.from_env({"UDS_DATA_DIR": str(tmp_path)})
    stage = land_source(settings, FORMS)
    assert stage.violations.empty
    assert (stage.summary.records_landed, stage.summary.records_quarantined) == (len(expected), 0)
    assert not csv_path.exists()  # landed, so the inbox file is gone

    con = connection.connect(settings.lake_dir)
    landed = con.execute("SELECT * FROM landed_forms").df().set_index("submission_id")
    assert sorted(landed.index) == sorted(expected.index)
    assert (landed["form_provider"] == "flat").all() and landed["submitted_at"].notna().all()
    assert landed["email"].isna().all() and landed["phone"].isna().all()  # no shared identifiers
    missing = 0
    for record_id, row in expected.iterrows():
        for field in FIELDS:
            got = landed.at[record_id, field]
            got = None if got is None or got != got else got  # NULL reads back as None or NaN
            assert got == row[field], (record_id, field)
            missing += row[field] is None
    assert missing > 0  # the comparison covered missing values too

    # The submission id is the pipeline's record id, and ISO birth dates are read as written.
    con.execute(f"CREATE TABLE records AS {person_records_sql()}")
    attributes = con.execute(
        f"SELECT a.record_id, CAST(a.date_of_birth AS VARCHAR) AS dob FROM ({person_attributes_sql('records')}) a "
        "WHERE a.source = 'form'"
    ).df()
    assert sorted(attributes["record_id"]) == sorted(truth["record_id"])
    births = attributes.set_index("record_id")["dob"]
    for record_id, dob in expected["date_of_birth"].items():
        assert (births[record_id] if births[record_id] == births[record_id] else None) == dob


def test_uds_generate_writes_linkage_forms(tmp_path, capsys):
    assert (
        cli_main(["--seed", "2", "--out", str(tmp_path), "--linkage-people", "30", "--corruption", "0.4"])
        == 0
    )
    truth = pq.read_table(tmp_path / "ground_truth" / "linkage_truth.parquet").to_pandas()
    assert truth["person_id"].nunique() == 30 and len(truth) > 30
    assert (tmp_path / "inbox" / "forms" / "linkage_2.csv").exists()
    assert "records/s" in capsys.readouterr().out
    assert (
        cli_main(["--seed", "2", "--out", str(tmp_path), "--linkage-people", "3", "--corruption", "extreme"])
        == 2
    )
    assert cli_main(["--seed", "2", "--out", str(tmp_path)]) == 2  # neither --people nor --linkage-people
