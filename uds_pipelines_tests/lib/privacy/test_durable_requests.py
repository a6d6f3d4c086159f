"""Privacy requests are durable: a crash at any point of an erasure loses no request and the next
run finishes it; an access request is done only once its report is written."""

import os
import signal

import pandas as pd
import pytest

from uds_pipelines.lib import catalog, connection, lake
from uds_pipelines.lib.privacy import (
    crashpoints,
    handle_requests,
    load_in_progress,
    pending_requests,
    read_audit,
    resolve_pending,
    verify_erased,
    workflow,
)
from uds_pipelines.lib.privacy.crashpoints import CRASH_ENV, ERASURE_POINTS
from uds_pipelines.lib.privacy.state import IN_PROGRESS_FILE
from uds_pipelines_tests.lib.privacy.lakefixture import (
    BOB_CID,
    BOB_SPELLINGS,
    JANE_CID,
    JANE_SPELLINGS,
    T0,
    build_lake,
)

KEY = b"test-key"


class Killed(Exception):
    """Stands in for SIGKILL: nothing after the crash point runs."""


def _land_requests(lake_dir, rows: list[dict]) -> None:
    frame = pd.DataFrame(
        [{"email": None, "phone": None, "customer_id": None, "received_at": T0, "purpose": None,
          "granted": None, "source_file": "p2.jsonl", "position": i} | r for i, r in enumerate(rows, 1)]
    )  # fmt: skip
    lake.write_parquet_atomic(frame, lake_dir / catalog.table("landed_privacy").path / "batch-p2.parquet")


def _run(lk, defer_access: bool = False):
    con = lake.duckdb_connection()
    try:
        subjects = resolve_pending(con, lk.lake_dir, pending_requests(con, lk.lake_dir))
        return handle_requests(
            lk.lake_dir, lk.exports_dir, subjects, key=KEY, warehouse_url=lk.warehouse_url, run_id="r",
            con=con, defer_access=defer_access,
        )  # fmt: skip
    finally:
        con.close()


def _landed_request_ids(lake_dir) -> set[str]:
    con = connection.connect(lake_dir)
    return {r for (r,) in con.execute("SELECT request_id FROM landed_privacy").fetchall()}


@pytest.mark.parametrize("point", ERASURE_POINTS)
def test_a_crash_inside_erasure_loses_no_request_and_the_rerun_erases_everything(tmp_path, monkeypatch, point):
    lk = build_lake(tmp_path)  # holds erasure request req-e1 for jane.doe@gmail.com
    monkeypatch.setenv(CRASH_ENV, point)

    real_kill = os.kill

    def kill(pid, sig):
        # `crashpoints.os` is the os module: the temp-file sweep's liveness probes (`os.kill(pid,
        # 0)` on other writers) must still work, only the crash point's SIGKILL is faked
        if pid == os.getpid() and sig == signal.SIGKILL:
            raise Killed(point)
        return real_kill(pid, sig)

    monkeypatch.setattr(crashpoints.os, "kill", kill)
    with pytest.raises(Killed):
        _run(lk)
    audit = read_audit(lk.lake_dir)
    if point == "after_audit":
        assert audit["request_id"].tolist() == ["req-e1"]
    else:
        # not done, and still there to be done: the request row and the resolved person survive
        assert audit.empty
        assert "req-e1" in _landed_request_ids(lk.lake_dir)
    assert [s.request_id for s in load_in_progress(lk.lake_dir)] == ["req-e1"]
    assert JANE_CID in load_in_progress(lk.lake_dir)[0].customer_ids

    monkeypatch.delenv(CRASH_ENV)
    result = _run(lk)
    audit = read_audit(lk.lake_dir).set_index("request_id")
    assert audit.loc["req-e1", "status"] == "completed"
    assert [s.request_id for s in result.erased] == ["req-e1"]
    assert not (lk.lake_dir / IN_PROGRESS_FILE).exists()
    assert _landed_request_ids(lk.lake_dir) == set()
    assert verify_erased(lk.data_dir, lk.warehouse_url, JANE_SPELLINGS | {JANE_CID}) == []
    assert verify_erased(lk.data_dir, lk.warehouse_url, BOB_SPELLINGS)  # Bob is still everywhere


def test_access_request_is_not_done_before_its_report_is_written(tmp_path, monkeypatch):
    lk = build_lake(tmp_path)
    _land_requests(lk.lake_dir, [{"request_id": "req-a-bob", "type": "access", "customer_id": BOB_CID}])

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(workflow, "write_access_report", disk_full)
    with pytest.raises(OSError):
        _run(lk)
    assert "req-a-bob" not in set(read_audit(lk.lake_dir)["request_id"])
    monkeypatch.undo()
    _run(lk)
    assert read_audit(lk.lake_dir).set_index("request_id").loc["req-a-bob", "status"] == "completed"
    assert (lk.exports_dir / "access_requests" / "req-a-bob.json").exists()


def test_deferred_access_requests_stay_pending_and_an_erased_persons_access_request_comes_first(tmp_path):
    lk = build_lake(tmp_path)
    _land_requests(
        lk.lake_dir,
        [
            {"request_id": "req-a-bob", "type": "access", "email": "bob.smith@example.com"},
            {"request_id": "req-a-jane", "type": "access", "phone": "+1 415 555 0123"},
        ],
    )
    result = _run(lk, defer_access=True)
    assert result.deferred == ["req-a-bob"]
    audit = read_audit(lk.lake_dir).set_index("request_id")
    assert set(audit.index) == {"req-e1", "req-a-jane"}  # Jane's access was answered before her erasure
    assert audit.loc["req-a-jane", "status"] == "completed"
    # Bob's request is still received, not done, and its row is kept for the access step
    assert _landed_request_ids(lk.lake_dir) == {"req-a-bob"}
    con = lake.duckdb_connection()
    assert pending_requests(con, lk.lake_dir)["request_id"].tolist() == ["req-a-bob"]


def test_a_failed_audit_write_keeps_the_erasure_request_for_the_next_run(tmp_path, monkeypatch):
    # The audit is the last write of a batch; until it is durable the request must stay pending.
    lk = build_lake(tmp_path)

    def audit_lost(*args, **kwargs):
        raise Killed("audit")

    monkeypatch.setattr(workflow, "write_audit", audit_lost)
    with pytest.raises(Killed):
        _run(lk)
    monkeypatch.undo()
    con = lake.duckdb_connection()
    assert pending_requests(con, lk.lake_dir)["request_id"].tolist() == ["req-e1"]
    _run(lk)
    assert read_audit(lk.lake_dir).set_index("request_id").loc["req-e1", "status"] == "completed"
    assert verify_erased(lk.data_dir, lk.warehouse_url, JANE_SPELLINGS | {JANE_CID}) == []
