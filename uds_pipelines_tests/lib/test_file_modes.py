"""Files with personal data are private: lake and export files 0600 and their folders 0700, the
SQLite warehouse 0600, the receiver's spool 0700; `UDS_FILE_MODE` opts in to group access."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from uds_pipelines.lib import lake, storage, warehouse
from uds_pipelines.lib.config import ConfigError, Settings
from uds_pipelines.lib.webhooks.spool import Spool


@pytest.fixture(autouse=True)
def usual_umask(monkeypatch):
    """The common umask 022, which alone would make every file 0644 and every folder 0755."""
    monkeypatch.delenv(storage.FILE_MODE_VARIABLE, raising=False)
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_lake_writes_create_private_files_and_folders(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    final = data / "lake" / "landed" / "stripe" / "batch.parquet"
    lake.write_parquet_atomic(pd.DataFrame({"email": ["a@example.com"]}), final)
    with lake.duckdb_connection() as con:
        lake.copy_query_to_parquet(con, "SELECT 'b@example.com' AS email", data / "lake" / "x" / "y.parquet")
    assert mode(final) == 0o600 and mode(data / "lake" / "x" / "y.parquet") == 0o600
    for folder in (data / "lake", data / "lake" / "landed", final.parent, data / "lake" / "x"):
        assert mode(folder) == 0o700, folder
    assert mode(data) == 0o755  # a folder that existed before is not ours to change...


def test_an_existing_open_folder_is_closed_when_written_into(tmp_path):
    folder = tmp_path / "exports" / "audiences" / "winback"
    folder.mkdir(parents=True)
    old = folder / "old.csv"
    old.write_text("customer_id,email\n")  # 0644 from an earlier version
    lake.write_parquet_atomic(pd.DataFrame({"a": [1]}), folder / "new.parquet")
    assert mode(folder) == 0o700  # ...except the one a file is published into: older files inside are closed too
    assert mode(folder / "new.parquet") == 0o600


@pytest.mark.parametrize(("setting", "file_mode", "dir_mode"), [("640", 0o640, 0o750), ("0660", 0o660, 0o770)])
def test_file_mode_setting_opts_in_to_group_access(tmp_path, monkeypatch, setting, file_mode, dir_mode):
    monkeypatch.setenv(storage.FILE_MODE_VARIABLE, setting)
    final = tmp_path / "lake" / "t.parquet"
    lake.write_parquet_atomic(pd.DataFrame({"a": [1]}), final)
    assert (mode(final), mode(final.parent)) == (file_mode, dir_mode)


@pytest.mark.parametrize("setting", ["644", "666", "700", "rw", "0o600"])
def test_a_file_mode_others_could_read_is_a_configuration_error(tmp_path, setting):
    with pytest.raises(ConfigError, match="UDS_FILE_MODE"):
        Settings.from_env({"UDS_DATA_DIR": str(tmp_path), "UDS_FILE_MODE": setting})


def test_sqlite_warehouse_file_is_private(tmp_path):
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    warehouse.publish_tables(url, {"customer_profiles": pd.DataFrame({"email": ["a@example.com"]})})
    written = [p for p in tmp_path.iterdir() if p.name.startswith("warehouse.sqlite")]
    assert written and {p.name: mode(p) for p in written} == {p.name: 0o600 for p in written}


def test_an_existing_sqlite_warehouse_is_closed(tmp_path):
    path = tmp_path / "warehouse.sqlite"
    path.touch(mode=0o644)
    warehouse.publish_tables(f"sqlite:///{path}", {"t": pd.DataFrame({"a": [1]})})
    assert mode(path) == 0o600


def test_receiver_spool_folder_and_files_are_private(tmp_path):
    spool = Spool(tmp_path / "spool" / "stripe", tmp_path / "inbox" / "stripe")
    spool.start()
    spool.append(b'{"id": "evt_1"}\n')
    published = spool.rotate()
    assert mode(tmp_path / "spool") == 0o700 and mode(tmp_path / "spool" / "stripe") == 0o700
    assert published is not None and mode(published) == 0o600
