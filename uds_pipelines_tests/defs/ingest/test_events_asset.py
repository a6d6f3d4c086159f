"""The `landed_events` asset, materialized in-process: tracking-plan violations per event name as
metadata, the table's total as `dagster/row_count`, the conservation check, the shared folders."""

import json
import re

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.ingest.events import landed_events
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines_tests.lib.ingest.events.spec_examples import (
    SEGMENT_ORDER_COMPLETED,
    SEGMENT_PAGE,
    SEGMENT_TRACK,
    message,
    write_jsonl,
)


def _events_metadata(result) -> dict:
    (event,) = [m for m in result.asset_materializations_for_node("landed_events") if m.asset_key.path == ["events"]]
    return {k: v.value for k, v in event.metadata.items()}


def _bad_order(n: int) -> dict:
    return message(SEGMENT_ORDER_COMPLETED, messageId=f"bad-{n}", properties={"order_id": f"o{n}", "total": 5})


def test_landing_reports_violations_per_event_and_row_counts(tmp_path):
    data = tmp_path / "data"
    inbox = data / "inbox" / "events"
    uds = UdsSettingsResource(data_dir=str(data))
    with dg.instance_for_test() as instance:
        write_jsonl(inbox / "events_1.jsonl", [SEGMENT_TRACK, SEGMENT_PAGE, _bad_order(1), _bad_order(2), "junk"])
        first = dg.materialize([landed_events], resources={"uds": uds}, instance=instance)
        write_jsonl(inbox / "events_2.jsonl", [SEGMENT_TRACK, _bad_order(3)])
        second = dg.materialize([landed_events], resources={"uds": uds}, instance=instance)
    assert first.success and second.success
    meta = _events_metadata(first)
    assert (meta["records_read"], meta["records_landed"], meta["records_quarantined"]) == (5, 4, 1)
    assert meta["dagster/row_count"] == 4
    assert meta["plan_violations_flagged"] == 3  # two bad orders, one unplanned "Course Clicked"
    assert meta["plan_violations_quarantined"] == 0 and meta["plan_events_with_violations"] == 2
    table = re.sub(r" +", " ", meta["plan_violations"])  # markdown columns are padded
    assert "| Order Completed | properties must contain ['currency'] properties | 2 | 0 |" in table
    assert "| Course Clicked | unplanned event | 1 | 0 |" in table
    assert meta["days_written"] == "2015-02-23, 2015-12-12"  # the Segment page example is older
    later = _events_metadata(second)
    assert (later["records_landed"], later["duplicates_skipped"], later["dagster/row_count"]) == (1, 1, 5)
    (check,) = second.get_asset_check_evaluations()
    assert check.check_name == c.CHECK_CONSERVATION and check.passed
    written = {m.asset_key.to_user_string() for m in second.asset_materializations_for_node("landed_events")}
    assert written == {"events", "landed_files"}  # nothing quarantined in the second run


def test_a_quarantining_plan_shows_the_quarantined_counts(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "violations: quarantine\nevents:\n  Order Completed: {type: object, required: [currency]}\n"
    )
    data = tmp_path / "data"
    write_jsonl(data / "inbox" / "events" / "e.jsonl", [_bad_order(1), json.dumps(SEGMENT_PAGE)])
    uds = UdsSettingsResource(data_dir=str(data), tracking_plan=str(plan))
    with dg.instance_for_test() as instance:
        result = dg.materialize([landed_events], resources={"uds": uds}, instance=instance)
    meta = _events_metadata(result)
    assert (meta["plan_violations_quarantined"], meta["records_quarantined"], meta["records_landed"]) == (1, 1, 1)
    assert result.get_asset_check_evaluations()[0].passed


def test_the_events_inbox_sensor_asks_for_a_landed_events_run(tmp_path):
    from uds_pipelines.definitions import defs

    inbox = tmp_path / "inbox" / "events"
    write_jsonl(inbox / "events_20261206T101500Z_a1b2.jsonl", [SEGMENT_TRACK])
    (inbox / ".events_20261206T101600Z_c3d4.jsonl.tmp").write_text("{}")  # still being written
    definitions = defs()
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance, definitions=definitions, resources={"uds": UdsSettingsResource(data_dir=str(tmp_path))}
        )
        result = definitions.get_sensor_def("events_inbox_sensor").evaluate_tick(context)
    (request,) = result.run_requests
    assert request.run_config["ops"]["landed_events"]["config"]["files"] == ["events_20261206T101500Z_a1b2.jsonl"]
    assert request.asset_selection == [dg.AssetKey("events")]
