"""A landed table's `dagster/row_count` (what the catalog shows) is the table's total, not the last
batch; the batch stays under `records_landed`."""

import json

import dagster as dg

from uds_pipelines.definitions import defs


def _event(n: int) -> str:
    obj = {"id": f"cus_{n}", "object": "customer", "email": f"p{n}@example.com", "created": 1767225600 + n}
    return json.dumps({"id": f"evt_{n}", "object": "event", "type": "customer.created",
                       "created": 1767225600 + n, "data": {"object": obj}}) + "\n"  # fmt: skip


def _latest(instance, asset: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def test_landed_row_count_is_the_tables_total(tmp_path, monkeypatch):
    data = tmp_path / "data"
    inbox = data / "inbox"
    (inbox / "stripe").mkdir(parents=True)
    (inbox / "forms").mkdir(parents=True)
    monkeypatch.setenv("UDS_DATA_DIR", str(data))
    job = dg.define_asset_job("landing", selection=dg.AssetSelection.assets("landed_stripe", "landed_forms").required_multi_asset_neighbors())
    resolved = dg.Definitions.merge(defs(), dg.Definitions(jobs=[job])).resolve_job_def("landing")
    with dg.instance_for_test() as instance:
        for run, (events, forms) in enumerate([(range(3), ["a", "b"]), (range(3, 5), ["c"])]):
            (inbox / "stripe" / f"events_{run}.jsonl").write_text("".join(_event(n) for n in events))
            rows = "".join(f"f-{s},{s}@example.com,2026-01-0{run + 1}T00:00:00Z\n" for s in forms)
            (inbox / "forms" / f"forms_{run}.csv").write_text("Submission ID,E-mail,Submitted At\n" + rows)
            assert resolved.execute_in_process(instance=instance).success
        stripe, forms = _latest(instance, "landed_stripe"), _latest(instance, "landed_forms")
    assert (stripe["records_landed"], stripe["dagster/row_count"]) == (2, 5)
    assert (forms["records_landed"], forms["dagster/row_count"]) == (1, 3)
