"""Stripe lands through the same inbox flow as the parsed sources: claimed, hashed, landed once
per content, recorded in the ledger and released, with stale claims of a dead run put back first."""

import json
import os

from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.ingest import inbox
from uds_pipelines.lib.ingest.stripe_stage import land_stripe
from uds_pipelines_tests.lib.ingest.test_stripe_files import event, landed


def _settings(tmp_path) -> Settings:
    return Settings.from_env({"UDS_DATA_DIR": str(tmp_path), "HOME": os.environ["HOME"]})


def _drop(folder, name: str, ids: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [event(i, "customer.updated", 1700000000, {"id": "cus_1", "object": "customer"}) for i in ids]
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_same_content_lands_once_and_every_file_leaves_the_inbox(tmp_path):
    settings = _settings(tmp_path)
    _drop(settings.inbox("stripe"), "a.jsonl", ["evt_1", "evt_2"])
    first = land_stripe(settings)
    assert (first.summary.records_landed, len(first.summary.new_files)) == (2, 1)
    assert first.violations.empty
    _drop(settings.inbox("stripe"), "b.jsonl", ["evt_1", "evt_2"])  # the same bytes, another name
    second = land_stripe(settings)
    assert (second.summary.records_landed, second.summary.duplicate_files) == (0, 1)
    assert len(inbox.landed_hashes(settings.lake_dir, "stripe")) == 1
    assert sorted(r["event_id"] for r in landed(settings.lake_dir)) == ["evt_1", "evt_2"]
    assert not any(settings.inbox("stripe").rglob("*.jsonl"))


def test_files_a_dead_run_claimed_are_put_back_and_landed(tmp_path):
    settings = _settings(tmp_path)
    _drop(settings.inbox("stripe") / inbox.CLAIM_DIR, "stuck.jsonl", ["evt_9"])
    stage = land_stripe(settings, files=["stuck.jsonl"])
    assert stage.summary.records_landed == 1
    assert [f["file_name"] for f in stage.summary.new_files] == ["stuck.jsonl"]
    assert not any(settings.inbox("stripe").rglob("*.jsonl"))
