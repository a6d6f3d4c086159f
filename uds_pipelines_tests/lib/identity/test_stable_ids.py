"""Stable ids across runs: carry-over, oldest id wins a merge, deterministic splits, retirement, change log."""

from __future__ import annotations

import re

import pandas as pd

from uds_pipelines.lib.identity.stable_ids import new_customer_ids
from uds_pipelines_tests.lib.identity.helpers import Runner, ids_by_record

ID_RE = re.compile(r"^uds_[0-9a-f]{20}$")

PEOPLE = {
    ("form", "f1"): [("email", "ann@mail.io")],
    ("survey", "s1"): [("email", "ann@mail.io"), ("phone", "+14155550101")],
    ("form", "f2"): [("phone", "+14155550202")],
    ("stripe", "cus_9"): [("stripe_customer", "cus_9"), ("email", "zed@mail.io")],
}


def _changes(out: dict, run_id: str) -> list[tuple]:
    frame = out["identity_changes"]
    frame = frame[frame["run_id"] == run_id]
    return sorted(
        frame[["change", "customer_id", "other_customer_id", "records"]].itertuples(index=False, name=None),
        key=str,
    )


def test_new_ids_are_random_looking_and_carry_no_identifier(tmp_path) -> None:
    out = Runner(tmp_path).run(PEOPLE)
    ids = out["identity_map"]["customer_id"].tolist()
    assert len(ids) == 4 and len(set(ids)) == 3
    for cid in ids:
        assert ID_RE.match(cid), cid
        assert not any(part in cid for part in ("ann", "mail", "4155550", "cus_9", "zed", "form", "survey"))
    fresh = new_customer_ids(10_000).to_pylist()
    assert len(set(fresh)) == 10_000 and all(ID_RE.match(c) for c in fresh[:100])
    assert sorted(c[0] for c in _changes(out, "run-1")) == ["new", "new", "new"]
    assert sorted(c[3] for c in _changes(out, "run-1")) == [1, 1, 2]


def test_identical_input_keeps_ids_and_logs_nothing(tmp_path) -> None:
    runner = Runner(tmp_path)
    first = ids_by_record(runner.run(PEOPLE)["identity_map"])
    out = runner.run(PEOPLE)
    assert ids_by_record(out["identity_map"]) == first
    assert _changes(out, "run-2") == []
    assert set(out["customer_registry"]["status"]) == {"active"}
    assert len(out["identity_changes"]) == 3  # run-1's log is kept


def test_merge_keeps_older_id_then_erasure_split_is_deterministic(tmp_path) -> None:
    runner = Runner(tmp_path)
    bob = {("form", "b2"): [("phone", "+14155550303")]}
    old_id = runner.run(bob)["identity_map"]["customer_id"].iloc[0]
    both = {**bob, ("form", "b1"): [("email", "bob@mail.io")]}
    young_id = ids_by_record(runner.run(both)["identity_map"])[("form", "b1")]
    assert young_id != old_id
    # A new record carrying both identifiers links the two people: the older id must survive.
    linked = {**both, ("survey", "b3"): [("email", "bob@mail.io"), ("phone", "+14155550303")]}
    out = runner.run(linked)
    assert set(out["identity_map"]["customer_id"]) == {old_id}
    assert _changes(out, "run-3") == [("merge", old_id, young_id, 1)]
    registry = out["customer_registry"].set_index("customer_id")
    assert registry.loc[young_id, "status"] == "merged" and registry.loc[young_id, "merged_into"] == old_id
    assert registry.loc[old_id, "status"] == "active"

    # Erasing the linking record splits them again: tie on size -> the part holding the smallest
    # (source, record_id), form:b1, keeps the id; form:b2 gets a fresh one.
    snapshot = {p.name: p.read_bytes() for p in tmp_path.glob("*.parquet")}
    out = runner.run(both)
    ids = ids_by_record(out["identity_map"])
    assert ids[("form", "b1")] == old_id
    new_id = ids[("form", "b2")]
    assert new_id not in (old_id, young_id) and ID_RE.match(new_id)
    assert _changes(out, "run-4") == [("split", old_id, new_id, 1)]
    registry = out["customer_registry"].set_index("customer_id")
    assert registry.loc[new_id, "status"] == "active" and registry.loc[young_id, "status"] == "merged"

    for name, data in snapshot.items():  # replay run 4 from the same state: same side keeps the id
        (tmp_path / name).write_bytes(data)
    again = ids_by_record(runner.run(both)["identity_map"])
    assert again[("form", "b1")] == old_id and again[("form", "b2")] != old_id


def test_split_keeps_id_with_the_bigger_part(tmp_path) -> None:
    runner = Runner(tmp_path)
    records = {
        ("form", "a"): [("phone", "+14155550404")],
        ("form", "b"): [("phone", "+14155550404"), ("email", "x@mail.io")],
        ("form", "c"): [("email", "x@mail.io")],
        ("form", "d"): [("email", "x@mail.io")],
    }
    person = runner.run(records)["identity_map"]["customer_id"].iloc[0]
    records[("form", "b")] = [("email", "x@mail.io")]  # the phone link to `a` disappears
    out = runner.run(records)
    ids = ids_by_record(out["identity_map"])
    assert ids[("form", "b")] == ids[("form", "c")] == ids[("form", "d")] == person
    assert ids[("form", "a")] != person
    assert _changes(out, "run-2") == [("split", person, ids[("form", "a")], 1)]


def test_erased_person_is_retired_and_leaves_the_map(tmp_path) -> None:
    runner = Runner(tmp_path)
    first = ids_by_record(runner.run(PEOPLE)["identity_map"])
    remaining = {k: v for k, v in PEOPLE.items() if k != ("stripe", "cus_9")}
    out = runner.run(remaining)
    assert ("stripe", "cus_9") not in ids_by_record(out["identity_map"])
    registry = out["customer_registry"].set_index("customer_id")
    gone = first[("stripe", "cus_9")]
    assert registry.loc[gone, "status"] == "retired"
    assert registry.loc[gone, "status_changed_at"] > registry.loc[gone, "created_at"]
    assert (registry["status"] == "active").sum() == 2
    assert _changes(out, "run-2") == []


def test_missing_registry_still_carries_ids_and_write_is_idempotent_per_run(tmp_path) -> None:
    runner = Runner(tmp_path)
    first = ids_by_record(runner.run(PEOPLE)["identity_map"])
    (tmp_path / "customer_registry.parquet").unlink()
    out = runner.run(PEOPLE)
    assert ids_by_record(out["identity_map"]) == first
    assert set(out["customer_registry"]["customer_id"]) == set(first.values())
    runner.runs -= 1  # re-run "run-2": its log rows are replaced, not duplicated
    out = runner.run(PEOPLE)
    counts = pd.Series(out["identity_changes"]["run_id"]).value_counts().to_dict()
    assert counts == {"run-1": 3}
