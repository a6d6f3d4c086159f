"""Behavioural events join the identity graph: userId records with identify traits, anonymous ids
tied to one user, shared devices linking nobody, alias, and `person_events` attributing events
sent before identify once the tie is known (on the next run)."""

from __future__ import annotations

import json
from pathlib import Path

from uds_pipelines.lib import connection
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.identity.stage import build_inputs, resolve
from uds_pipelines.lib.ingest.stage import FORMS, land_source
from uds_pipelines_tests.lib.identity.event_messages import alias, identify, order, product, track
from uds_pipelines_tests.lib.ingest.events.helpers import drop, land, settings_for


def _run(settings: Settings, run_id: str = "r1"):
    """Land what waits, then identity inputs and resolution, as the assets run them."""
    land(settings)
    inputs = build_inputs(settings)
    resolve(settings, run_id)
    return inputs


def _rows(settings: Settings, sql: str) -> list[tuple]:
    con = connection.for_settings(settings)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _map(settings: Settings) -> dict[str, str]:
    return dict(_rows(settings, "SELECT record_id, customer_id FROM identity_map WHERE source = 'events'"))


def test_events_before_identify_join_the_person_on_the_next_run(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    drop(
        settings,
        "browse.jsonl",
        [product("Product Viewed", 0, anon="a1"), product("Product Added", 1, anon="a1")],
    )
    _run(settings)
    assert _map(settings) == {}  # an anonymous id tied to nobody: no record, no person
    assert _rows(settings, "SELECT count(*) FROM person_events WHERE customer_id IS NOT NULL") == [(0,)]

    drop(settings, "signup.jsonl", [
        identify(2, "u1", anon="a1", email="Ann.Lee@Mail.io", firstName="Ann", lastName="Lee"),
        order(3, "o1", 30.0, user="u1"),
    ])  # fmt: skip
    inputs = _run(settings, "r2")
    ids = _map(settings)
    assert set(ids) == {"user:u1", "anon:a1"} and ids["user:u1"] == ids["anon:a1"]
    assert inputs.anonymous_ids_linked == 1 and inputs.shared_anonymous_ids == 0
    attributed = _rows(settings, "SELECT event, customer_id FROM person_events ORDER BY timestamp")
    assert [e for e, _ in attributed] == ["Product Viewed", "Product Added", None, "Order Completed"]
    assert {c for _, c in attributed} == {ids["user:u1"]}  # the browsing before sign-up too
    record = _rows(
        settings,
        "SELECT email, first_name, last_name, external_id FROM person_records WHERE source = 'events'",
    )
    assert record == [("Ann.Lee@Mail.io", "Ann", "Lee", "u1")]
    identifiers = _rows(
        settings, "SELECT id_type, id_value FROM identifiers WHERE record_id = 'user:u1' ORDER BY 1"
    )
    assert ("email", "ann.lee@mail.io") in identifiers and ("event_user", "u1") in identifiers


def test_an_identify_email_links_the_user_to_a_form_submission(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    form = {
        "submission_id": "sub-1",
        "email": "ann.lee@mail.io",
        "first_name": "Ann",
        "submitted_at": "2026-10-01",
    }
    forms = settings.inbox("forms")
    forms.mkdir(parents=True)
    (forms / "forms.jsonl").write_text(json.dumps(form) + "\n")
    land_source(settings, FORMS)
    drop(
        settings,
        "e.jsonl",
        [identify(0, "u1", anon="a1", email="ANN.LEE@mail.io"), track("Signed In", 1, anon="a1")],
    )
    _run(settings)
    people = dict(_rows(settings, "SELECT source || ':' || record_id, customer_id FROM identity_map"))
    assert people["form:sub-1"] == people["events:user:u1"] == people["events:anon:a1"]


def test_a_shared_device_links_nobody_unless_the_limit_allows(tmp_path: Path) -> None:
    messages = [
        identify(0, "u1", anon="kiosk", email="one@mail.io"),
        identify(5, "u2", anon="kiosk", email="two@mail.io"),
        track("Page Browsed", 6, anon="kiosk"),
        identify(7, "u3", anon="own"),
    ]
    settings = settings_for(tmp_path / "strict")
    drop(settings, "e.jsonl", messages)
    inputs = _run(settings)
    ids = _map(settings)
    assert "anon:kiosk" not in ids and inputs.shared_anonymous_ids == 1
    assert ids["user:u1"] != ids["user:u2"]  # two accounts on one browser stay two people
    assert ids["anon:own"] == ids["user:u3"]
    orphan = _rows(settings, "SELECT customer_id FROM person_events WHERE event = 'Page Browsed'")
    assert orphan == [(None,)]  # whose browsing it was is unknown

    guardrails = tmp_path / "guardrails.yaml"
    guardrails.write_text("max_users_per_anonymous_id: 2\n")
    loose = settings_for(tmp_path / "loose", UDS_IDENTITY_GUARDRAILS=str(guardrails))
    drop(loose, "e.jsonl", messages)
    inputs = _run(loose)
    ids = _map(loose)
    assert inputs.shared_anonymous_ids == 0
    assert ids["anon:kiosk"] == ids["user:u1"] == ids["user:u2"]


def test_alias_ties_an_anonymous_id_and_merges_two_user_ids(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    drop(settings, "e.jsonl", [
        product("Product Viewed", 0, anon="a7"),
        alias(1, "a7", "u7"),
        identify(2, "old-id", email="x@mail.io"),
        alias(3, "old-id", "new-id"),
        track("Signed In", 4, user="new-id"),
    ])  # fmt: skip
    _run(settings)
    ids = _map(settings)
    assert ids["anon:a7"] == ids["user:u7"]
    assert ids["user:old-id"] == ids["user:new-id"] == ids["alias:old-id"]
    assert "anon:old-id" not in ids  # a previousId that is a userId is no anonymous id
    assert ids["user:u7"] != ids["user:new-id"]


def test_newest_identify_traits_win_field_by_field(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    drop(settings, "e.jsonl", [
        identify(0, "u1", email="first@mail.io", phone="+1 415 555 0134", name="Ann Lee"),
        identify(10, "u1", email="second@mail.io"),  # no phone: the older one stays
    ])  # fmt: skip
    _run(settings)
    rows = _rows(settings, "SELECT email, phone, first_name, last_name FROM person_records")
    assert rows == [("second@mail.io", "+1 415 555 0134", "Ann", "Lee")]
