"""Inbox sensors: names and stats only, cursors, run keys, and a fast tick over a big inbox."""

import json
import os
import time

import dagster as dg
import pytest

from uds_pipelines.definitions import defs
from uds_pipelines.defs.resources import UdsSettingsResource


@pytest.fixture
def data_dir(tmp_path):
    for source in ("stripe", "surveys", "forms", "privacy"):
        (tmp_path / "inbox" / source).mkdir(parents=True)
    return tmp_path


_DEFINITIONS = []


def _tick(name: str, data_dir, cursor=None):
    if not _DEFINITIONS:
        _DEFINITIONS.append(defs())  # loading the code location once keeps the module fast
    definitions = _DEFINITIONS[0]
    sensor = definitions.get_sensor_def(name)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance,
            cursor=cursor,
            definitions=definitions,
            resources={"uds": UdsSettingsResource(data_dir=str(data_dir))},
        )
        started = time.perf_counter()
        result = sensor.evaluate_tick(context)
        result.seconds = time.perf_counter() - started
    return result


def test_new_files_are_requested_once_with_their_names_in_config(data_dir):
    inbox = data_dir / "inbox" / "forms"
    (inbox / "a.jsonl").write_text('{"email": "x@example.com"}\n')
    (inbox / "b.json").write_text('{"email": "y@example.com"}')
    (inbox / ".c.jsonl.tmp").write_text("partial")  # still being written: ignored
    first = _tick("forms_inbox_sensor", data_dir)
    assert len(first.run_requests) == 1
    request = first.run_requests[0]
    assert request.run_key.startswith("forms-")
    assert request.asset_selection == [dg.AssetKey("landed_forms")], "the table the forms step lands"
    assert sorted(request.run_config["ops"]["landed_form_submissions"]["config"]["files"]) == [
        "a.jsonl",
        "b.json",
    ]
    second = _tick("forms_inbox_sensor", data_dir, cursor=first.cursor)
    assert second.run_requests == [] or second.run_requests is None
    # a file that arrives later (e.g. while the first run is in progress) is asked for by the next tick
    (inbox / "d.csv").write_text("email\nz@example.com\n")
    third = _tick("forms_inbox_sensor", data_dir, cursor=second.cursor or first.cursor)
    assert [
        r.run_config["ops"]["landed_form_submissions"]["config"]["files"] for r in third.run_requests
    ] == [["d.csv"]]


def test_rewritten_file_is_requested_again_and_cursor_forgets_removed_files(data_dir):
    inbox = data_dir / "inbox" / "stripe"
    path = inbox / "events.jsonl"
    path.write_text("{}\n")
    first = _tick("stripe_inbox_sensor", data_dir)
    path.unlink()
    after_removal = _tick("stripe_inbox_sensor", data_dir, cursor=first.cursor)
    assert json.loads(after_removal.cursor)["requested"] == {}
    path.write_text('{"id": "evt_1"}\n')
    again = _tick("stripe_inbox_sensor", data_dir, cursor=after_removal.cursor)
    assert len(again.run_requests) == 1
    assert again.run_requests[0].run_key != first.run_requests[0].run_key


def test_tick_with_ten_thousand_files_is_fast_and_capped(data_dir):
    inbox = data_dir / "inbox" / "stripe"
    for i in range(10_000):
        (inbox / f"evt_{i:05d}.json").write_bytes(b"{}")
    os.sync()
    result = _tick("stripe_inbox_sensor", data_dir)
    elapsed = result.seconds
    files = sum(
        len(r.run_config["ops"]["landed_stripe_events"]["config"]["files"]) for r in result.run_requests
    )
    assert 0 < files < 10_000, "requests per tick are capped"
    assert len({r.run_key for r in result.run_requests}) == len(result.run_requests)
    print(f"tick over 10,000 files: {elapsed:.3f} s")
    assert elapsed < 2  # generous for a loaded CI machine; the listing itself takes ~0.15 s


def test_surveys_request_targets_both_tables_of_the_landing_step(data_dir):
    (data_dir / "inbox" / "surveys" / "s.csv").write_text("response_id,email\n1,x@example.com\n")
    (request,) = _tick("surveys_inbox_sensor", data_dir).run_requests
    assert request.asset_selection == [
        dg.AssetKey("landed_survey_answers"),
        dg.AssetKey("landed_survey_responses"),
    ]
    assert request.run_config["ops"]["landed_survey_responses"]["config"]["files"] == ["s.csv"]


def test_empty_inbox_skips_with_a_reason(data_dir):
    result = _tick("privacy_inbox_sensor", data_dir)
    assert not result.run_requests
    assert "no new files" in (result.skip_message or "")


def test_file_still_waiting_after_a_failed_run_is_requested_again(data_dir):
    from uds_pipelines.lib.ingest.sensor_logic import RETRY_AFTER_SECONDS, plan_inbox_runs

    folder = data_dir / "inbox" / "surveys"
    (folder / "export.csv").write_text("email\nx@example.com\n")
    first, cursor = plan_inbox_runs(folder, "surveys", None, now=1_000.0)
    soon, cursor = plan_inbox_runs(folder, "surveys", cursor, now=1_000.0 + 60)
    assert soon == []
    later, _ = plan_inbox_runs(folder, "surveys", cursor, now=1_000.0 + RETRY_AFTER_SECONDS + 1)
    assert [r.files for r in later] == [["export.csv"]]
    assert later[0].run_key != first[0].run_key
