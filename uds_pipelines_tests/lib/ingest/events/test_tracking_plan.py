"""The tracking plan: allow / flag / quarantine for unplanned events and for violations, identify
traits, the bundled default against Segment's spec examples, and bad plan files."""

from __future__ import annotations

import json

import pytest

from uds_pipelines.lib.config import ConfigError, Settings
from uds_pipelines_tests.lib.ingest.events.helpers import drop, land, query, settings_for
from uds_pipelines_tests.lib.ingest.events.spec_examples import (
    ALL,
    SEGMENT_IDENTIFY,
    SEGMENT_ORDER_COMPLETED,
    SEGMENT_TRACK,
    message,
)

PLAN = """
unplanned_events: {unplanned}
violations: {violations}
events:
  Order Completed:
    type: object
    required: [order_id, currency]
    properties:
      order_id: {{type: string}}
      total: {{type: number}}
identify_traits:
  type: object
  properties:
    email: {{type: string, format: email}}
"""

BAD_ORDER = message(
    SEGMENT_ORDER_COMPLETED,
    messageId="bad-order",
    properties={"order_id": "o-2", "currency": "EUR", "total": "12"},
)
BAD_TRAITS = message(SEGMENT_IDENTIFY, messageId="bad-traits", traits={"email": "not an address"})
UNPLANNED = message(SEGMENT_TRACK, messageId="unplanned")  # "Course Clicked"
MESSAGES = [SEGMENT_ORDER_COMPLETED, BAD_ORDER, BAD_TRAITS, UNPLANNED, SEGMENT_IDENTIFY]


def _settings(tmp_path, unplanned: str, violations: str) -> Settings:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.format(unplanned=unplanned, violations=violations))
    return settings_for(tmp_path / "data", UDS_TRACKING_PLAN=str(plan))


def _landed(settings) -> dict:
    return dict(query(settings, "SELECT message_id, violations FROM events"))


def test_flag_lands_everything_with_the_violations_listed(tmp_path):
    settings = _settings(tmp_path, "flag", "flag")
    drop(settings, "e.jsonl", MESSAGES)
    stage = land(settings)
    landed = _landed(settings)
    assert len(landed) == 5 and stage.summary.records_quarantined == 0
    assert json.loads(landed["bad-order"]) == ["properties.total must be number"]
    assert json.loads(landed["bad-traits"]) == ["traits.email must be email"]
    assert json.loads(landed["unplanned"]) == ["unplanned event"]
    assert (
        landed[SEGMENT_ORDER_COMPLETED["messageId"]] is None and landed[SEGMENT_IDENTIFY["messageId"]] is None
    )
    table = stage.violations_table()
    assert table.to_dict("records") == [
        {"event": "(identify)", "violation": "traits.email must be email", "flagged": 1, "quarantined": 0},
        {"event": "Course Clicked", "violation": "unplanned event", "flagged": 1, "quarantined": 0},
        {
            "event": "Order Completed",
            "violation": "properties.total must be number",
            "flagged": 1,
            "quarantined": 0,
        },
    ]


def test_quarantine_keeps_violations_and_unplanned_events_out_with_the_reason(tmp_path):
    settings = _settings(tmp_path, "quarantine", "quarantine")
    drop(settings, "e.jsonl", MESSAGES)
    stage = land(settings)
    assert set(_landed(settings)) == {SEGMENT_ORDER_COMPLETED["messageId"], SEGMENT_IDENTIFY["messageId"]}
    assert stage.summary.records_quarantined == 3
    reasons = dict(query(settings, "SELECT position, reason FROM quarantine"))
    assert (
        reasons[2]
        == "tracking plan violation in 'Order Completed': properties.total must be number at line 2"
    )
    assert reasons[3].startswith("tracking plan violation in '(identify)': traits.email must be email")
    assert reasons[4] == "tracking plan: unplanned event 'Course Clicked' at line 4"
    ((raw,),) = query(settings, "SELECT raw FROM quarantine WHERE position = 2")
    assert json.loads(raw)["properties"] == BAD_ORDER["properties"]  # the message, for replay
    assert stage.violations_table()["quarantined"].sum() == 3


def test_allow_lands_unplanned_events_silently_while_violations_are_still_flagged(tmp_path):
    settings = _settings(tmp_path, "allow", "flag")
    drop(settings, "e.jsonl", MESSAGES)
    land(settings)
    landed = _landed(settings)
    assert landed["unplanned"] is None
    assert json.loads(landed["bad-order"]) == ["properties.total must be number"]


def test_unplanned_quarantined_but_violations_only_flagged(tmp_path):
    settings = _settings(tmp_path, "quarantine", "flag")
    drop(settings, "e.jsonl", MESSAGES)
    stage = land(settings)
    assert "unplanned" not in _landed(settings) and "bad-order" in _landed(settings)
    assert stage.summary.records_quarantined == 1


def test_duplicates_are_not_validated_twice_nor_counted_as_violations(tmp_path):
    settings = _settings(tmp_path, "flag", "quarantine")
    drop(settings, "e.jsonl", [BAD_ORDER, BAD_ORDER])
    stage = land(settings)
    assert (stage.summary.records_quarantined, stage.summary.duplicates_skipped) == (1, 1)


def test_the_bundled_plan_accepts_segment_spec_examples_and_flags_by_default(tmp_path):
    settings = settings_for(tmp_path)
    drop(
        settings,
        "e.jsonl",
        [
            *ALL,
            message(
                SEGMENT_ORDER_COMPLETED, messageId="no-total", properties={"order_id": "1", "currency": "USD"}
            ),
        ],
    )
    stage = land(settings)
    assert stage.summary.records_quarantined == 0  # default: flag, nothing lost
    landed = _landed(settings)
    assert landed[SEGMENT_ORDER_COMPLETED["messageId"]] is None  # the spec's own example passes
    assert landed[SEGMENT_IDENTIFY["messageId"]] is None
    assert json.loads(landed["no-total"]) == ["properties cannot be validated by any definition"]
    assert json.loads(landed[SEGMENT_TRACK["messageId"]]) == ["unplanned event"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("events: [a, b", "not valid YAML"),
        ("unplanned_events: drop\n", "unplanned_events: 'drop' must be one of allow, flag, quarantine"),
        ("violations: block\n", "violations: 'block' must be one of"),
        ("events:\n  Signed Up: {type: nonsense}\n", "events.Signed Up: invalid JSON Schema"),
        ("events:\n  Signed Up: 3\n", "events.Signed Up: a JSON Schema (a mapping) is expected"),
        ("event:\n  Signed Up: {}\n", "unknown key(s) event"),
        ("- a\n- b\n", "a tracking plan is a mapping"),
    ],
)
def test_a_bad_plan_file_fails_at_start_naming_the_variable(tmp_path, text, problem):
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"UDS_DATA_DIR": str(tmp_path), "UDS_TRACKING_PLAN": str(plan)})
    assert str(error.value).startswith(f"UDS_TRACKING_PLAN={str(plan)!r}: ")
    assert problem in str(error.value)


def test_a_missing_plan_file_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="UDS_TRACKING_PLAN=.*no such file"):
        Settings.from_env({"UDS_DATA_DIR": str(tmp_path), "UDS_TRACKING_PLAN": str(tmp_path / "nope.yaml")})


def test_a_payload_sent_again_gets_the_same_verdict_and_huge_integers_still_validate(tmp_path):
    """Identical properties are checked once per batch (the verdict reused), for another event
    name checked again; an integer past 64 bits (which orjson refuses) is decoded by json instead."""
    settings = _settings(tmp_path, "allow", "flag")
    same = {"order_id": "o-9", "currency": "EUR", "total": "12"}
    huge = {"order_id": "o-10", "currency": "EUR", "total": 123456789012345678901234567890}
    drop(settings, "e.jsonl", [
        message(SEGMENT_ORDER_COMPLETED, messageId="first", properties=same),
        message(SEGMENT_ORDER_COMPLETED, messageId="again", properties=same),
        message(SEGMENT_TRACK, messageId="other-event", properties=same),  # unplanned, allowed
        message(SEGMENT_ORDER_COMPLETED, messageId="huge", properties=huge),
    ])  # fmt: skip
    land(settings)
    landed = _landed(settings)
    assert json.loads(landed["first"]) == json.loads(landed["again"]) == ["properties.total must be number"]
    assert landed["other-event"] is None and landed["huge"] is None
