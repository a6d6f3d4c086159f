"""Erasure removes killed writers' temp files first: no rewrite reaches them, they hold people in clear."""

import subprocess
import sys

from uds_pipelines.lib import lake
from uds_pipelines.lib.privacy import handle_requests, verify_erased
from uds_pipelines.lib.privacy.verify import LEFTOVER
from uds_pipelines_tests.lib.privacy.helpers import request, resolve
from uds_pipelines_tests.lib.privacy.lakefixture import JANE_SPELLINGS, build_lake

JANE = "jane.doe@gmail.com"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _temp_name(final_name: str, pid: int) -> str:
    """The name `lake.temp_path_for` gives, as a writer with `pid` on this host would have had it."""
    host = lake.TAGGED_TEMP.match(lake.temp_path_for(lake.private_temp_dir() / final_name).name)["host"]
    return f".{final_name}.{host}-{pid}-0123456789ab.tmp"


def test_erasure_removes_dead_writers_temp_files_and_keeps_live_ones(tmp_path):
    lk = build_lake(tmp_path)
    dead = lk.lake_dir / "landed" / "forms" / _temp_name("forms-x.parquet", _dead_pid())
    dead_export = lk.exports_dir / "audiences" / _temp_name("newsletter.csv", _dead_pid())
    live = lk.lake_dir / "landed" / "forms" / _temp_name("forms-y.parquet", 1)  # pid 1 never dies
    for path in (dead, dead_export, live):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"email,{JANE}\n")
    con = lake.duckdb_connection()
    subjects = resolve(con, lk.lake_dir, [request("req-t1", email=JANE)])

    handle_requests(lk.lake_dir, lk.exports_dir, subjects, key=b"k", warehouse_url=lk.warehouse_url, run_id="r", con=con)

    assert not dead.exists() and not dead_export.exists()
    assert live.exists()  # a live writer's file is never touched; the verification names it
    findings = verify_erased(lk.data_dir, lk.warehouse_url, JANE_SPELLINGS)
    assert [(f.path, f.kind) for f in findings] == [(str(live.relative_to(lk.data_dir)), LEFTOVER)]
