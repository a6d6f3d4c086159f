"""Stable ids across runs: carry-over, oldest id wins a merge, splits give merged ids back, retirement, change log."""

from __future__ import annotations

import re
from datetime import timedelta

import pandas as pd

from uds_pipelines.lib.identity.stable_ids import ORIGIN_COLUMN, new_customer_ids
from uds_pipelines_tests.lib.identity.helpers import T0, Runner, ids_by_record

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

    # Erasing the linking record splits them again: each part gets back the id its records carried
    # before the merge (form:b2 keeps old_id, form:b1 gets young_id back), never a fresh id.
    snapshot = {p.name: p.read_bytes() for p in runner.out_dir.glob("*.parquet")}
    out = runner.run(both)
    ids = ids_by_record(out["identity_map"])
    assert ids == {("form", "b2"): old_id, ("form", "b1"): young_id}
    assert _changes(out, "run-4") == [("revive", young_id, old_id, 1), ("split", old_id, young_id, 1)]
    registry = out["customer_registry"].set_index("customer_id")
    assert registry.loc[young_id, "status"] == "active" and pd.isna(registry.loc[young_id, "merged_into"])
    assert registry.loc[young_id, "status_changed_at"] == T0 + timedelta(days=4)

    for name, data in snapshot.items():  # replay run 4 from the same state: same ids
        (runner.out_dir / name).write_bytes(data)
    assert ids_by_record(runner.run(both)["identity_map"]) == ids


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
    (runner.out_dir / "customer_registry.parquet").unlink()
    out = runner.run(PEOPLE)
    assert ids_by_record(out["identity_map"]) == first
    assert set(out["customer_registry"]["customer_id"]) == set(first.values())
    runner.runs -= 1  # re-run "run-2": its log rows are replaced, not duplicated
    out = runner.run(PEOPLE)
    counts = pd.Series(out["identity_changes"]["run_id"]).value_counts().to_dict()
    assert counts == {"run-1": 3}


ANN = {("form", "a"): [("email", "ann@mail.io")]}
BEA = {("form", "b"): [("email", "bea@mail.io")]}
CAL = {("survey", "c"): [("phone", "+14155550606")]}
LINK_ALL = {("stripe", "l"): [("email", "ann@mail.io"), ("email", "bea@mail.io"), ("phone", "+14155550606")]}
LINK_BC = {("survey", "n"): [("email", "bea@mail.io"), ("phone", "+14155550606")]}


def _rows(*rows: tuple) -> list[tuple]:
    return sorted(rows, key=str)


def _origins(out: dict) -> dict[tuple[str, str], str]:
    frame = out["identity_map"]
    return {(s, r): o for s, r, o in frame[["source", "record_id", ORIGIN_COLUMN]].itertuples(index=False)}


def _three_people_merged(runner: Runner) -> tuple[str, str, str]:
    """Runs 1-3 create Ann, Bea, Cal (in that order: Ann's id is the oldest); run 4 links all three."""
    id_a = runner.run(ANN)["identity_map"]["customer_id"].iloc[0]
    id_b = ids_by_record(runner.run({**ANN, **BEA})["identity_map"])[("form", "b")]
    id_c = ids_by_record(runner.run({**ANN, **BEA, **CAL})["identity_map"])[("survey", "c")]
    out = runner.run({**ANN, **BEA, **CAL, **LINK_ALL})
    assert set(out["identity_map"]["customer_id"]) == {id_a}
    assert _changes(out, "run-4") == _rows(("merge", id_a, id_b, 1), ("merge", id_a, id_c, 1))
    assert _origins(out) == {
        ("form", "a"): id_a,
        ("form", "b"): id_b,
        ("survey", "c"): id_c,
        ("stripe", "l"): id_a,
    }
    return id_a, id_b, id_c


def test_split_after_merge_gives_each_part_its_id_back(tmp_path) -> None:
    runner = Runner(tmp_path)
    id_a, id_b, id_c = _three_people_merged(runner)
    snapshot = {p.name: p.read_bytes() for p in runner.out_dir.glob("*.parquet")}

    # The linking record is erased while a new record links Bea and Cal only: Ann keeps her id (her
    # identifiers did not change); Bea + Cal get Bea's id back (older than Cal's), Cal's stays merged.
    after = {**ANN, **BEA, **CAL, **LINK_BC}
    out = runner.run(after)
    ids = ids_by_record(out["identity_map"])
    assert ids == {("form", "a"): id_a, ("form", "b"): id_b, ("survey", "c"): id_b, ("survey", "n"): id_b}
    assert _changes(out, "run-5") == _rows(
        ("merge", id_b, id_c, 1),  # Cal's id now points at Bea's, not Ann's
        ("revive", id_b, id_a, 3),
        ("split", id_a, id_b, 2),
    )
    registry = out["customer_registry"].set_index("customer_id")
    assert registry.loc[id_a, "status"] == "active" and pd.isna(registry.loc[id_a, "merged_into"])
    assert registry.loc[id_b, "status"] == "active" and pd.isna(registry.loc[id_b, "merged_into"])
    assert registry.loc[id_b, "status_changed_at"] == T0 + timedelta(days=5)
    assert registry.loc[id_c, "status"] == "merged" and registry.loc[id_c, "merged_into"] == id_b
    assert len(registry) == 3  # no fresh id was drawn
    assert _origins(out) == {
        ("form", "a"): id_a,
        ("form", "b"): id_b,
        ("survey", "c"): id_c,
        ("survey", "n"): id_b,
    }
    assert out["stats"]["splits"] == 1 and out["stats"]["new"] == 0

    # Same input again: nothing changes, nothing is logged.
    again = runner.run(after)
    assert ids_by_record(again["identity_map"]) == ids and _changes(again, "run-6") == []
    assert _origins(again) == _origins(out)

    # Replaying run 5 from the state before it gives the same ids and the same log.
    for name, data in snapshot.items():
        (runner.out_dir / name).write_bytes(data)
    runner.runs = 4
    replay = runner.run(after)
    assert ids_by_record(replay["identity_map"]) == ids
    assert _changes(replay, "run-5") == _changes(out, "run-5")

    # Cal's record splits off too: Cal's id comes back.
    out = runner.run({**ANN, **BEA, **CAL})
    ids = ids_by_record(out["identity_map"])
    assert ids == {("form", "a"): id_a, ("form", "b"): id_b, ("survey", "c"): id_c}
    assert _changes(out, "run-6") == [("revive", id_c, id_b, 1), ("split", id_b, id_c, 1)]
    assert set(out["customer_registry"]["status"]) == {"active"}


def test_erasure_of_every_link_gives_all_three_ids_back(tmp_path) -> None:
    runner = Runner(tmp_path)
    id_a, id_b, id_c = _three_people_merged(runner)
    out = runner.run({**ANN, **BEA, **CAL})
    assert ids_by_record(out["identity_map"]) == {
        ("form", "a"): id_a,
        ("form", "b"): id_b,
        ("survey", "c"): id_c,
    }
    assert _changes(out, "run-5") == _rows(
        ("revive", id_b, id_a, 1),
        ("revive", id_c, id_a, 1),
        ("split", id_a, id_b, 1),
        ("split", id_a, id_c, 1),
    )
    assert out["stats"]["revived"] == 2 and out["stats"]["splits"] == 2


def test_person_keeps_survivor_id_when_its_own_records_are_erased(tmp_path) -> None:
    # Ann's record is erased but Bea and Cal stay linked: nothing split, so the person keeps Ann's id.
    runner = Runner(tmp_path)
    id_a, id_b, id_c = _three_people_merged(runner)
    out = runner.run({**BEA, **CAL, **LINK_BC})
    assert set(out["identity_map"]["customer_id"]) == {id_a}
    assert _changes(out, "run-5") == []
    registry = out["customer_registry"].set_index("customer_id")
    assert registry.loc[id_b, "merged_into"] == id_a and registry.loc[id_c, "merged_into"] == id_a


def test_merge_chain_splits_back_step_by_step(tmp_path) -> None:
    runner = Runner(tmp_path)
    dan = {("form", "d"): [("phone", "+14155550707")]}
    id_d = runner.run(dan)["identity_map"]["customer_id"].iloc[0]
    id_a = ids_by_record(runner.run({**dan, **ANN})["identity_map"])[("form", "a")]
    id_b = ids_by_record(runner.run({**dan, **ANN, **BEA})["identity_map"])[("form", "b")]
    link_ab = {("stripe", "ab"): [("email", "ann@mail.io"), ("email", "bea@mail.io")]}
    link_da = {("stripe", "da"): [("phone", "+14155550707"), ("email", "ann@mail.io")]}
    out = runner.run({**dan, **ANN, **BEA, **link_ab})  # Ann absorbs Bea
    assert _changes(out, "run-4") == [("merge", id_a, id_b, 1)]
    out = runner.run({**dan, **ANN, **BEA, **link_ab, **link_da})  # Dan (oldest) absorbs Ann + Bea
    assert set(out["identity_map"]["customer_id"]) == {id_d}
    assert _changes(out, "run-5") == [("merge", id_d, id_a, 3)]  # Bea only follows Ann: no row
    assert out["customer_registry"].set_index("customer_id").loc[id_b, "merged_into"] == id_d

    out = runner.run({**dan, **ANN, **BEA, **link_ab})  # Dan's link goes: Ann + Bea get Ann's id back
    ids = ids_by_record(out["identity_map"])
    assert ids[("form", "d")] == id_d
    assert ids[("form", "a")] == ids[("form", "b")] == ids[("stripe", "ab")] == id_a
    assert _changes(out, "run-6") == _rows(
        ("merge", id_a, id_b, 1),
        ("revive", id_a, id_d, 3),
        ("split", id_d, id_a, 3),
    )
    registry = out["customer_registry"].set_index("customer_id")
    assert registry.loc[id_b, "merged_into"] == id_a

    out = runner.run({**dan, **ANN, **BEA})  # and then Bea's
    assert ids_by_record(out["identity_map"]) == {
        ("form", "d"): id_d,
        ("form", "a"): id_a,
        ("form", "b"): id_b,
    }
    assert _changes(out, "run-7") == [("revive", id_b, id_a, 1), ("split", id_a, id_b, 1)]


def test_records_of_one_origin_in_two_parts_tie_goes_to_smallest_record(tmp_path) -> None:
    runner = Runner(tmp_path)
    pat = {("form", "p1"): [("phone", "+14155550808")], ("form", "p2"): [("phone", "+14155550808")]}
    id_p = runner.run(pat)["identity_map"]["customer_id"].iloc[0]
    quin = {("survey", "q"): [("email", "quin@mail.io")]}
    linked = {**pat, **quin, ("stripe", "x"): [("email", "quin@mail.io"), ("phone", "+14155550808")]}
    id_q = ids_by_record(runner.run({**pat, **quin})["identity_map"])[("survey", "q")]
    assert set(runner.run(linked)["identity_map"]["customer_id"]) == {id_p}
    # p1 and p2 lose their shared phone; p1 now meets Quin by email: one Pat record in each part.
    out = runner.run({("form", "p1"): [("email", "quin@mail.io")], ("form", "p2"): [], **quin})
    ids = ids_by_record(out["identity_map"])
    assert ids[("form", "p1")] == ids[("survey", "q")] == id_p  # tie: form:p1 is the smaller record
    fresh = ids[("form", "p2")]
    assert ID_RE.match(fresh) and fresh not in (id_p, id_q)
    assert _changes(out, "run-4") == [("split", id_p, fresh, 1)]
    assert _origins(out)[("form", "p2")] == fresh  # split off from its origin's records: starts anew
    assert _origins(out)[("survey", "q")] == id_q  # still history of the person it sits in


def test_identity_map_without_origin_column_still_works(tmp_path) -> None:
    runner = Runner(tmp_path)
    first = runner.run(PEOPLE)
    assert (first["identity_map"][ORIGIN_COLUMN] == first["identity_map"]["customer_id"]).all()
    path = runner.out_dir / "identity_map.parquet"
    pd.read_parquet(path)[["source", "record_id", "customer_id"]].to_parquet(path, index=False)
    out = runner.run(PEOPLE)
    assert ids_by_record(out["identity_map"]) == ids_by_record(first["identity_map"])
    assert _changes(out, "run-2") == []
    assert (out["identity_map"][ORIGIN_COLUMN] == out["identity_map"]["customer_id"]).all()
