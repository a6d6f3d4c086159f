"""Access reports are written after profiles and segments, so the first run's reports are complete."""

import json
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd

from uds_pipelines import constants as c
from uds_pipelines.definitions import defs
from uds_pipelines.lib import catalog
from uds_pipelines.lib.privacy import read_audit

SAMPLES = Path(__file__).resolve().parents[3] / "data" / "samples" / "inbox"


def test_access_reports_follow_profiles_segments_and_erasures_in_both_jobs():
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    parents = {k.to_user_string() for k in graph.get(dg.AssetKey("access_reports")).parent_keys}
    assert parents == {"requests_audit", "customer_profiles", "segment_membership"}
    for job_name in (c.JOB_FULL_RUN, c.JOB_DAILY_PROFILES):
        job = definitions.resolve_job_def(job_name)
        assert dg.AssetKey("access_reports") in job.asset_layer.selected_asset_keys, job_name


def test_first_run_access_reports_hold_the_profile_and_segments(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(SAMPLES, data / "inbox")
    monkeypatch.setenv("UDS_DATA_DIR", str(data))
    monkeypatch.setenv("UDS_AS_OF", "2026-11-01T00:00:00Z")
    with dg.instance_for_test() as instance:
        result = (
            defs().resolve_job_def(c.JOB_FULL_RUN).execute_in_process(instance=instance, raise_on_error=False)
        )
    assert result.success
    profiles = pd.read_parquet(data / "lake" / catalog.table("customer_profiles").path)
    members = pd.read_parquet(data / "lake" / catalog.table("segment_membership").path)
    reports = sorted((data / "exports" / "access_requests").glob("*.json"))
    audit = read_audit(data / "lake").set_index("request_id")
    with_profile = 0
    for path in reports:
        report = json.loads(path.read_text())
        assert audit.loc[report["request_id"], "status"] == "completed"
        ids = set(report["customer_ids"]) & set(profiles["customer_id"])
        if not ids:
            continue
        with_profile += 1
        assert {p["customer_id"] for p in report["profile"]} == ids, path.name
        expected = members[members["customer_id"].isin(ids)]
        assert sorted((s["customer_id"], s["segment"]) for s in report["segments"]) == sorted(
            zip(expected["customer_id"], expected["segment"], strict=True)
        ), path.name
    assert with_profile >= 1, "the samples hold access requests of people with profiles"
    assert any(json.loads(p.read_text())["segments"] for p in reports), "and people in segments"
