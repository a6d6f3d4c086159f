"""Behavioural event sessions: opt-in (nothing else changes), the stored message format, real
identifiers at sign-up, shared devices, and a cart-abandonment truth that follows its rule."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from uds_pipelines.lib.generator import generate
from uds_pipelines_tests.lib.generator.test_generator import tree_hashes

STORED_FIELDS = ("type", "messageId", "source", "userId", "anonymousId", "properties", "traits", "context",
                 "timestamp", "originalTimestamp", "sentAt", "receivedAt")  # fmt: skip
HOUR_MS = 3_600_000


def _messages(out: Path) -> pd.DataFrame:
    lines = [
        json.loads(line) for f in sorted((out / "inbox" / "events").glob("*.jsonl")) for line in f.open()
    ]
    return pd.DataFrame(lines)


def test_sessions_are_opt_in_and_leave_every_other_file_as_it_was(tmp_path: Path) -> None:
    plain = tree_hashes(generate(tmp_path / "a", people=80, seed=9, workers=1).out_dir)
    with_sessions = tree_hashes(generate(tmp_path / "b", people=80, seed=9, workers=1, sessions=300).out_dir)
    again = tree_hashes(generate(tmp_path / "c", people=80, seed=9, workers=1, sessions=300).out_dir)
    added = set(with_sessions) - set(plain)
    assert added and all(k.startswith("inbox/events/") or k.startswith("ground_truth/") for k in added)
    assert {k for k in added if k.startswith("ground_truth/")} == {
        "ground_truth/event_people.parquet",
        "ground_truth/cart_abandoners.parquet",
    }
    assert {k: with_sessions[k] for k in plain} == plain
    assert again == with_sessions  # the sessions are deterministic too


def test_sessions_look_like_analytics_js_and_their_truth_holds(tmp_path: Path) -> None:
    summary = generate(tmp_path, people=400, seed=4, workers=1, sessions=3000, end="2026-11-01")
    events = _messages(tmp_path)
    assert summary.events == len(events) > 15_000
    assert events["messageId"].is_unique
    assert all(f in events.columns for f in STORED_FIELDS)
    counts = events.groupby(events["event"].fillna(events["type"])).size()
    for name in (
        "page",
        "identify",
        "Product Viewed",
        "Product Added",
        "Checkout Started",
        "Order Completed",
    ):
        assert counts[name] > 0, name
    truth = pq.read_table(tmp_path / "ground_truth" / "event_people.parquet").to_pandas()
    people = pq.read_table(tmp_path / "ground_truth" / "people.parquet").to_pandas().set_index("person_id")

    # sign-up carries the person's real identifiers
    identify = events[events["type"] == "identify"]
    person_of_user = truth[truth["id_type"] == "user"].set_index("id")["person_id"]
    traits = pd.DataFrame(identify["traits"].tolist(), index=identify.index)
    persons = identify["userId"].map(person_of_user)
    assert (traits["email"] == persons.map(people["email"])).all()
    assert (traits["phone"] == persons.map(people["phone_e164"])).all()

    # anonymous browsing before sign-up, and shared devices used by several users
    assert (events["userId"].isna() & (events["type"] == "track")).sum() > 100
    users_per_device = events.dropna(subset=["userId"]).groupby("anonymousId")["userId"].nunique()
    shared = set(truth[(truth["id_type"] == "anon") & truth["person_id"].isna()]["id"])
    assert shared and shared == set(users_per_device[users_per_device > 1].index)

    # consent preferences travel in the context
    prefs = events["context"].map(lambda c: c["consent"]["categoryPreferences"])
    assert prefs.map(lambda p: set(p) == {"Advertising", "Analytics"}).all()

    # the cart rule, recomputed from the lines: each known person's last "Product Added" with no
    # "Order Completed" at or after it (and an hour over by the end date)
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    events["ms"] = (pd.to_datetime(events["timestamp"]) - epoch) // pd.Timedelta(milliseconds=1)
    anon_person = truth[(truth["id_type"] == "anon") & truth["identifiable"]].set_index("id")["person_id"]
    events["person"] = events["userId"].map(person_of_user).fillna(events["anonymousId"].map(anon_person))
    end_ms = (pd.Timestamp("2026-11-01", tz="UTC") - epoch) // pd.Timedelta(milliseconds=1)
    expected = set()
    for person, rows in events.dropna(subset=["person"]).groupby("person"):
        adds = rows.loc[rows["event"] == "Product Added", "ms"]
        if adds.empty or adds.max() + HOUR_MS > end_ms:
            continue
        orders = rows.loc[rows["event"] == "Order Completed", "ms"]
        if not (orders >= adds.max()).any():
            expected.add(person)
    abandoners = pq.read_table(tmp_path / "ground_truth" / "cart_abandoners.parquet").to_pandas()
    assert len(expected) > 10
    assert set(abandoners["person_id"]) == expected
    assert (abandoners["email"] == abandoners["person_id"].map(people["email"])).all()
