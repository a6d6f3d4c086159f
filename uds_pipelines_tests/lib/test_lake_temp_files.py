"""Temp files of killed writers are removed when the next writer starts writing into their folder;
a live writer's temp file, and files that are not ours, are never touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import lake

# A writer that starts a lake temp file, writes personal data into it, reports its path, then
# waits: for SIGKILL (a killed run) or for a line on stdin, after which it publishes normally.
WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from uds_pipelines.lib import lake

    final = Path(sys.argv[1])
    tmp = lake.temp_path_for(final)
    with open(tmp, "wb") as handle:
        handle.write(b"jane.doe@example.com," * 1000)
        handle.flush()
        print(tmp, flush=True)
        sys.stdin.readline()
    lake.atomic_replace(tmp, final)
    """
)


def start_writer(final: Path) -> tuple[subprocess.Popen, Path]:
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(final)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    tmp = Path(child.stdout.readline().strip())
    assert tmp.is_file() and tmp.parent == final.parent
    return child, tmp


def hidden_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_killed_writers_temp_file_is_removed_when_the_next_writer_starts(tmp_path):
    folder = tmp_path / "lake" / "landed" / "stripe"
    child, tmp = start_writer(folder / "stripe-1.parquet")
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert tmp.exists()  # what a killed run leaves: personal data in a hidden file
    lake.write_parquet_atomic(pd.DataFrame({"a": [1]}), folder / "stripe-2.parquet")
    assert not tmp.exists()
    assert hidden_files(folder) == []


def test_a_live_concurrent_writers_temp_file_survives(tmp_path):
    folder = tmp_path / "lake" / "landed" / "stripe"
    child, tmp = start_writer(folder / "stripe-live.parquet")
    try:
        lake.write_parquet_atomic(pd.DataFrame({"a": [1]}), folder / "stripe-other.parquet")
        assert tmp.exists()
        child.communicate("go\n", timeout=60)  # the live writer finishes and publishes its file
    finally:
        child.kill()
    assert child.returncode == 0
    assert (folder / "stripe-live.parquet").read_bytes().startswith(b"jane.doe@example.com,")
    assert hidden_files(folder) == []


def test_other_hosts_and_untagged_temp_files_go_only_once_old_and_foreign_names_stay(tmp_path):
    folder = tmp_path / "lake" / "profiles"
    folder.mkdir(parents=True)
    day_old = time.time() - lake.STALE_TEMP_AGE_SECONDS - 60
    names = {
        "other_host_fresh": ".t.parquet.0123abcd-42-0123456789ab.tmp",
        "other_host_old": ".t.parquet.0123abcd-43-0123456789ab.tmp",
        "untagged_old": f".t.parquet.{'a' * 32}.tmp",
        "untagged_fresh": f".t.parquet.{'b' * 32}.tmp",
        "not_ours_old": ".upload-in-progress.tmp",
    }
    for key, name in names.items():
        (folder / name).write_bytes(b"x")
        if key.endswith("_old"):
            os.utime(folder / name, (day_old, day_old))
    assert lake._HOST != "0123abcd"
    removed = {p.name for p in lake.sweep_stale_temps(folder)}
    assert removed == {names["other_host_old"], names["untagged_old"]}
    assert set(hidden_files(folder)) == {names["other_host_fresh"], names["untagged_fresh"], names["not_ours_old"]}


def test_each_folder_is_swept_once_per_process(tmp_path, monkeypatch):
    swept = []
    monkeypatch.setattr(lake, "sweep_stale_temps", lambda folder: swept.append(folder) or [])
    for index in range(3):
        lake.write_parquet_atomic(pd.DataFrame({"a": [index]}), tmp_path / "a" / f"{index}.parquet")
    lake.write_parquet_atomic(pd.DataFrame({"a": [1]}), tmp_path / "b" / "x.parquet")
    assert swept == [tmp_path / "a", tmp_path / "b"]


def test_temp_files_for_object_storage_are_local_private_and_tagged(tmp_path):
    from upath import UPath

    tmp = lake.temp_path_for(UPath("memory://bucket/lake/profiles/customer_profiles.parquet"))
    assert isinstance(tmp, Path) and tmp.parent == lake.private_temp_dir()
    assert lake.TAGGED_TEMP.match(tmp.name) and f"-{os.getpid()}-" in tmp.name
    assert tmp.parent.stat().st_mode & 0o077 == 0


SPILLER = textwrap.dedent(
    """
    import os, sys, time
    from uds_pipelines.lib import lake

    con = lake.duckdb_connection(memory_limit="100MB", threads=1)
    con.execute("SET enable_progress_bar=false")
    con.execute("CREATE TABLE t AS SELECT md5(range::VARCHAR) AS a, md5(a) AS b, md5(b) AS c FROM range(2500000)")
    spill = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    print(spill, len(os.listdir(spill)), flush=True)
    time.sleep(600)
    """
)


def test_a_killed_processes_duckdb_spill_folder_is_private_and_swept(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", SPILLER], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    spill, files = child.stdout.readline().split()
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    spill_dir = Path(spill)
    assert int(files) > 0 and spill_dir.parent == lake.private_temp_dir()  # not `.tmp` in the working directory
    assert spill_dir.is_dir()  # DuckDB removes it only on a clean close
    assert spill_dir in lake.sweep_stale_temps(lake.private_temp_dir())
    assert not spill_dir.exists()
