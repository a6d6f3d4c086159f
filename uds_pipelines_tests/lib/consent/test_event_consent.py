"""Consent objects in behavioural events become ledger statements at the event's time, changes only,
and reach the person through the identity map's event records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from uds_pipelines.lib import catalog, connection, lake, watermarks
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.consent.events import event_statements_sql
from uds_pipelines.lib.consent.stage import build_consent
from uds_pipelines.lib.ingest.results import consent_frame
from uds_pipelines.lib.privacy import apply_retention
from uds_pipelines.lib.tracking_plan import PlanError, TrackingPlan
from uds_pipelines_tests.lib.events_lake import event, write_events, write_identity_map


def _prefs(**categories: object) -> dict:
    return {"consent": {"categoryPreferences": categories}}


def _settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"UDS_DATA_DIR": str(tmp_path)})


def _read(settings: Settings, sql: str) -> list[tuple]:
    con = connection.for_settings(settings)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_changes_become_statements_and_reach_the_person(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    lake_dir = settings.lake_dir
    write_events(
        lake_dir,
        [
            # anonymous browsing says yes to advertising, then signs up as u-1
            event(None, "anon-a", "2026-11-01T10:00:00", context=_prefs(Advertising=True, Analytics=True)),
            event(None, "anon-a", "2026-11-01T10:05:00", context=_prefs(Advertising=True, Analytics=True)),
            event("u-1", "anon-a", "2026-11-02T09:00:00", context=_prefs(Advertising=True, Analytics=True)),
            event("u-1", "anon-a", "2026-11-03T09:00:00", context=_prefs(Advertising=False, Analytics=True)),
            event("u-1", "anon-a", "2026-11-04T09:00:00", context=_prefs(Advertising=False, Analytics=True)),
            # RudderStack's shape, OneTrust ids: C0004 (targeting) denied
            event(
                "u-2",
                None,
                "2026-11-05T09:00:00",
                context={
                    "consentManagement": {"allowedConsentIds": ["C0002"], "deniedConsentIds": ["C0004"]}
                },
            ),
            # an unmapped category and no consent object at all say nothing
            event("u-3", None, "2026-11-05T09:00:00", context=_prefs(Functional=True)),
            event("u-3", None, "2026-11-05T10:00:00"),
            # a shared device nobody's identity map record points at
            event(None, "anon-shared", "2026-11-05T11:00:00", context=_prefs(Advertising=True)),
        ],  # fmt: skip
    )
    write_identity_map(
        lake_dir,
        [("events", "user:u-1", "c1"), ("events", "anon:anon-a", "c1"), ("events", "user:u-2", "c2")],
    )
    stage = build_consent(settings)
    statements = _read(
        settings,
        "SELECT source_record, purpose, granted, strftime(captured_at, '%m-%d %H:%M') FROM consent_ledger "
        "WHERE source = 'events' ORDER BY 1, 2, 4",
    )
    assert statements == [
        ("anon:anon-a", "ad_targeting", True, "11-01 10:00"),
        ("anon:anon-a", "analytics", True, "11-01 10:00"),
        ("anon:anon-shared", "ad_targeting", True, "11-05 11:00"),
        ("user:u-1", "ad_targeting", True, "11-02 09:00"),
        ("user:u-1", "ad_targeting", False, "11-03 09:00"),
        ("user:u-1", "analytics", True, "11-02 09:00"),
        ("user:u-2", "ad_targeting", False, "11-05 09:00"),
        ("user:u-2", "analytics", True, "11-05 09:00"),
    ]
    assert stage.ledger.unusable == {}
    assert stage.from_events == len(statements)
    decided = _read(settings, "SELECT customer_id, purpose, granted FROM effective_consent ORDER BY 1, 2")
    assert decided == [
        ("c1", "ad_targeting", False),  # the later no of u-1 beats the anonymous yes
        ("c1", "analytics", True),
        ("c2", "ad_targeting", False),
        ("c2", "analytics", True),
    ]
    assert stage.effective.unmatched_statements == 1  # the shared device decides nobody


def test_one_no_among_categories_of_a_purpose_decides_no_and_non_booleans_are_unusable(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    write_events(
        settings.lake_dir,
        [
            event("u-1", None, "2026-11-01T10:00:00", context=_prefs(Advertising=True, Targeting=False)),
            event("u-2", None, "2026-11-01T10:00:00", context=_prefs(Analytics="maybe")),
        ],
    )
    write_identity_map(settings.lake_dir, [("events", "user:u-1", "c1"), ("events", "user:u-2", "c2")])
    stage = build_consent(settings)
    decided = _read(settings, "SELECT customer_id, purpose, granted FROM effective_consent ORDER BY 1, 2")
    assert decided == [("c1", "ad_targeting", False)]
    assert stage.ledger.unusable == {"missing or invalid granted": 1}


def test_consent_categories_are_checked_when_the_plan_loads() -> None:
    plan = TrackingPlan.from_dict(
        {"consent_categories": {"Ads": ["ad_targeting", "analytics"], "X": "analytics"}}
    )
    assert plan.consent_categories == {"ads": ("ad_targeting", "analytics"), "x": ("analytics",)}
    with pytest.raises(PlanError, match="consent_categories.Ads"):
        TrackingPlan.from_dict({"consent_categories": {"Ads": ["Ad Targeting"]}})


def test_retention_of_old_events_keeps_their_consent_changes(tmp_path: Path) -> None:
    """A cookie's yes of 2024, a form's no of 2025, then page views re-sending the cookie's yes: the
    no is the latest statement. Retention deletes the 2024 events; the page views left must not
    restate the yes as if it were new (which granted what the person had refused)."""
    settings = Settings.from_env({"UDS_DATA_DIR": str(tmp_path), "UDS_AS_OF": "2026-11-01T00:00:00Z"})
    lake_dir = settings.lake_dir
    write_events(
        lake_dir,
        [
            event("u-1", None, "2024-01-10T09:00:00", context=_prefs(Advertising=True)),
            event("u-1", None, "2026-10-01T09:00:00", context=_prefs(Advertising=True)),
            event("u-1", None, "2026-10-20T09:00:00", context=_prefs(Advertising=True)),
            # a visitor whose only events expire: their statement stays a fact
            event(None, "anon-z", "2024-02-01T09:00:00", context=_prefs(Advertising=False, Analytics=True)),
        ],
    )
    form_no = {
        "identifier_type": "customer_id", "identifier": "c1", "purpose": "ad_targeting", "granted": False,
        "captured_at": "2025-06-01T00:00:00Z", "source": "form", "source_record": "sub-1",
        "source_file": "form.json",
    }  # fmt: skip
    lake.write_parquet_atomic(consent_frame([form_no]), catalog.path(lake_dir, "landed_consent") / "f.parquet")
    write_identity_map(lake_dir, [("events", "user:u-1", "c1"), ("form", "sub-1", "c1")])
    query = "SELECT customer_id, purpose, granted, decided_by_source FROM effective_consent ORDER BY 1, 2"
    ledger = "SELECT source_record, purpose, granted, captured_at FROM consent_ledger ORDER BY 1, 2, 4"
    assert build_consent(settings).kept_from_expiring_events == 3  # u-1's yes, anon-z's no and yes
    before, ledger_before = _read(settings, query), _read(settings, ledger)
    assert before == [("c1", "ad_targeting", False, "form")]
    watermarks.reset(lake_dir, "consent_ledger")  # a crash after keeping the statements, before the watermark
    assert build_consent(settings).kept_from_expiring_events == 0
    assert _read(settings, ledger) == ledger_before
    as_of = datetime(2026, 11, 1, tzinfo=UTC)
    removed = apply_retention(lake_dir, as_of, 730)
    assert removed["events"] == 2
    build_consent(settings)
    assert _read(settings, query) == before
    assert _read(settings, ledger) == ledger_before


# A visitor's preferences over time: a value that is not a boolean (a statement without a decision)
# and two messages at one instant (the later message id decides), before and after every cutoff.
_HISTORY_EVENTS = [
    ("m1", "2024-01-01 10:00:00", True),
    ("m2", "2024-01-02 10:00:00", "maybe"),
    ("m3", "2024-01-03 10:00:00", True),
    ("m4", "2024-01-04 10:00:00", False),
    ("m5", "2024-01-04 10:00:00", True),
    ("m6", "2026-10-02 10:00:00", True),
    ("m7", "2026-10-03 10:00:00", False),
]


@pytest.mark.parametrize("cutoff", ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2026-10-03"])
def test_statements_kept_then_continued_are_those_of_every_event(cutoff: str) -> None:
    """Statements stored from the events before a cutoff, then those of the later events against
    them, are exactly the statements of all the events together."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE ev (message_id VARCHAR, user_id VARCHAR, anonymous_id VARCHAR, timestamp TIMESTAMP, "
        "context VARCHAR, source_file VARCHAR)"
    )
    for message_id, at, value in _HISTORY_EVENTS:
        context = json.dumps(_prefs(Analytics=value))
        con.execute("INSERT INTO ev VALUES (?, 'u-1', NULL, ?, ?, 'f')", [message_id, at, context])
    history = catalog.table("event_consent_history")
    con.execute(f"CREATE TABLE kept ({', '.join(f'{c} {catalog.duckdb_type(history.arrow_type(c))}' for c in history.columns)})")
    plan = {"Analytics": ["analytics"]}

    def statements(where: str, **kwargs) -> str:
        return event_statements_sql(plan, events=f"(SELECT * FROM ev WHERE {where})", prior="kept", **kwargs)

    columns = "purpose, granted, captured_at"
    every = set(con.execute(f"SELECT {columns} FROM {statements('true')}").fetchall())
    con.execute(f"INSERT INTO kept SELECT * FROM {statements(f'timestamp < DATE {cutoff!r}', with_message_id=True)}")
    later = con.execute(f"SELECT {columns} FROM {statements(f'timestamp >= DATE {cutoff!r}')}").fetchall()
    assert set(con.execute(f"SELECT {columns} FROM kept").fetchall()) | set(later) == every
