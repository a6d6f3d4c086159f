"""`kill -9` of `uds-run` inside an erasure: the next run completes every request and leaves no
erased person anywhere (identity, profiles, landed tables, exports, warehouse)."""

import json
import os
import shutil
import signal
import subprocess
import sys

import dagster as dg
import pandas as pd
import pytest

from uds_pipelines import constants as c
from uds_pipelines.definitions import defs
from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.generator.core import generate
from uds_pipelines.lib.privacy import read_audit, resolve_pending, verify_erased
from uds_pipelines.lib.privacy.crashpoints import CRASH_ENV
from uds_pipelines.lib.privacy.state import IN_PROGRESS_FILE
from uds_pipelines.lib.privacy.verify import LEFTOVER

AS_OF = "2026-11-01T00:00:00Z"
POINTS = ("after_suppression", "after_lake_rewrite", "after_exports", "after_warehouse", "before_audit", "after_audit")


def _full_run(data, monkeypatch) -> dg.ExecuteInProcessResult:
    monkeypatch.setenv("UDS_DATA_DIR", str(data))
    monkeypatch.setenv("UDS_AS_OF", AS_OF)
    with dg.instance_for_test() as instance:
        return defs().resolve_job_def(c.JOB_FULL_RUN).execute_in_process(instance=instance, raise_on_error=False)


def _requests(profiles: pd.DataFrame) -> list[dict]:
    """Erasures by e-mail, phone and customer id; an access request of one of them; one of someone else."""
    people = profiles[profiles["email"].notna() & profiles["phone"].notna()].sort_values("customer_id")
    p = people.to_dict("records")
    base = {"received_at": "2026-10-30T10:00:00Z"}
    return [
        base | {"request_id": "e-mail-1", "type": "erasure", "email": p[0]["email"].upper()},
        base | {"request_id": "e-mail-2", "type": "erasure", "email": p[1]["email"]},
        base | {"request_id": "e-phone", "type": "erasure", "phone": p[2]["phone"]},
        base | {"request_id": "e-cid", "type": "erasure", "customer_id": p[3]["customer_id"]},
        base | {"request_id": "a-erased", "type": "access", "email": p[0]["email"]},
        base | {"request_id": "a-kept", "type": "access", "email": p[4]["email"]},
    ]


@pytest.fixture(scope="module")
def crashed(tmp_path_factory):
    """A baseline run (so exports and the warehouse hold everyone), then one `uds-run` per crash
    point on its own copy with the requests in the inbox, all killed at once in parallel."""
    root = tmp_path_factory.mktemp("crash")
    generate(root / "generated", people=40, seed=5)
    base = root / "base"
    shutil.copytree(root / "generated" / "inbox", base / "inbox")
    with pytest.MonkeyPatch.context() as mp:
        assert _full_run(base, mp).success
    requests = _requests(pd.read_parquet(base / "lake" / catalog.table("customer_profiles").path))
    con = lake.duckdb_connection()
    subjects = resolve_pending(con, base / "lake", pd.DataFrame(requests).assign(received_at=pd.Timestamp(AS_OF)))
    erased = subjects[subjects["type"] == "erasure"]
    needles = {v for ids in erased["identifiers"] for _, v in ids}
    processes = {}
    for point in POINTS:
        data = root / point / "data"
        shutil.copytree(base, data)
        (data / "inbox" / "privacy").mkdir(parents=True, exist_ok=True)
        (data / "inbox" / "privacy" / "requests.jsonl").write_text("".join(json.dumps(r) + "\n" for r in requests))
        env = os.environ | {"UDS_DATA_DIR": str(data), "DAGSTER_HOME": str(root / point / "home"),
                            "UDS_AS_OF": AS_OF, CRASH_ENV: point}  # fmt: skip
        processes[point] = subprocess.Popen(
            [sys.executable, "-m", "uds_pipelines.cli.run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    codes = {point: proc.wait(timeout=300) for point, proc in processes.items()}
    for proc in processes.values():
        proc.stdout.close()
        proc.stderr.close()
    return {"root": root, "codes": codes, "needles": needles, "erased": erased, "requests": requests}


@pytest.mark.parametrize("point", POINTS)
def test_rerun_after_kill_completes_every_request_and_erases_everyone(crashed, point, monkeypatch):
    assert crashed["codes"][point] == -signal.SIGKILL  # the run really died at that point
    data = crashed["root"] / point / "data"
    assert (data / "lake" / IN_PROGRESS_FILE).exists()  # the interrupted erasure is on record

    assert _full_run(data, monkeypatch).success
    audit = read_audit(data / "lake").set_index("request_id")
    ours = [r["request_id"] for r in crashed["requests"]]
    assert audit.reindex(ours)["status"].tolist() == ["completed"] * len(ours)
    assert not (data / "lake" / IN_PROGRESS_FILE).exists()
    warehouse = f"sqlite:///{data / 'warehouse.sqlite'}"
    leftovers = [f for f in verify_erased(data, warehouse, crashed["needles"]) if f.kind == LEFTOVER]
    assert leftovers == []
    gone = {cid for ids in crashed["erased"]["customer_ids"] for cid in ids}
    assert len(gone) >= 4
    for table in (catalog.table("identity_map").path, catalog.table("customer_profiles").path, catalog.table("segment_membership").path):
        assert not set(pd.read_parquet(data / "lake" / table)["customer_id"]) & gone, table
    # the person nobody asked to erase still has their report
    assert json.loads((data / "exports" / "access_requests" / "a-kept.json").read_text())["profile"]
