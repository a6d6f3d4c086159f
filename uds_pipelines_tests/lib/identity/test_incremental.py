"""Incremental resolution gives the whole run's answer: run after run of random changes, each run's
part-only resolution is compared with a whole resolution of the same lake."""

from __future__ import annotations

import random
import shutil

import pandas as pd
import pytest

from uds_pipelines.lib.identity import GuardrailConfig, incremental
from uds_pipelines_tests.lib.identity.helpers import Runner, ids_by_record

# Tight limits, so that values cross them both ways as records come and go.
CONFIG = GuardrailConfig(
    max_records_per_value=3,
    max_values_per_type={"email": 2, "phone": 2},
    blocked_values={"email": ("junk@mail.io",)},
    warn_component_records=6,
)


@pytest.fixture(autouse=True)
def _part_path_at_any_share(monkeypatch) -> None:
    """These graphs are small: most runs reach over half of them, where the part path would step aside
    (records gone count too, so the share can pass 1)."""
    monkeypatch.setattr(incremental, "MAX_SHARE", 100.0)


def _identifiers(rng: random.Random) -> list[tuple[str, str]]:
    found = [("email", f"e{rng.randrange(14)}@mail.io") for _ in range(rng.randrange(3))]
    found += [("phone", f"+1415555{rng.randrange(12):04d}") for _ in range(rng.randrange(2))]
    if rng.random() < 0.1:
        found.append(("email", "junk@mail.io"))
    return found


def _step(rng: random.Random, records: dict, serial: int) -> None:
    """Add, drop or change a few records."""
    for _ in range(rng.randrange(1, 4)):
        roll = rng.random()
        if roll < 0.55 or not records:
            records[("form", f"r{serial}-{rng.randrange(10**6)}")] = _identifiers(rng)
        elif roll < 0.75:
            del records[rng.choice(sorted(records))]
        else:
            records[rng.choice(sorted(records))] = _identifiers(rng)


def _canonical(out: dict, run_id: str, previous_ids: set[str]) -> dict[str, set | list]:
    """The outputs with each id minted by this run named by its customer's first record (fresh ids are random)."""
    first = out["identity_map"].groupby("customer_id")[["source", "record_id"]].min()
    label = {cid: f"new:{s}:{r}" for cid, (s, r) in first.iterrows() if cid not in previous_ids}

    def name(value):
        return label.get(value, value)

    id_map = out["identity_map"]
    changes = out["identity_changes"][out["identity_changes"]["run_id"] == run_id]
    registry = out["customer_registry"]
    return {
        "map": {
            (s, r, name(c), name(o), f, g)
            for s, r, c, o, f, g in id_map[
                ["source", "record_id", "customer_id", "origin_customer_id", "fingerprint", "guarded"]
            ].itertuples(index=False)
        },
        "registry": {
            (name(c), s, name(m) if isinstance(m, str) else None)
            for c, s, m in registry[["customer_id", "status", "merged_into"]].itertuples(index=False)
        },
        "changes": sorted(
            (ch, name(c), name(o) if isinstance(o, str) else None, n)
            for ch, c, o, n in changes[["change", "customer_id", "other_customer_id", "records"]].itertuples(
                index=False
            )
        ),
        "report": sorted(
            map(tuple, out["guardrail_report"][["rule", "id_type", "id_value_masked", "records_affected"]].values)
        ),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_incremental_run_equals_a_whole_run_of_the_same_lake(tmp_path, seed) -> None:
    rng = random.Random(seed)
    records: dict = {}
    lake = tmp_path / "lake"
    runner = Runner(lake, CONFIG)
    scopes = []
    for serial in range(18):
        _step(rng, records, serial)
        previous_ids = set()
        registry_file = lake / "identity" / "customer_registry.parquet"
        if registry_file.exists():
            previous_ids = set(pd.read_parquet(registry_file)["customer_id"])
        map_file = lake / "identity" / "identity_map.parquet"
        mapped = len(pd.read_parquet(map_file)) if map_file.exists() else 0
        whole_lake = tmp_path / f"whole-{serial}"
        if lake.exists():
            shutil.copytree(lake, whole_lake)
        whole = Runner(whole_lake, CONFIG)
        whole.runs = runner.runs
        expected = whole.run(records)
        got = runner.run(records, incremental=True)
        # a previous map: only the part is resolved again (a lake without one is resolved whole)
        assert got["stats"]["scope"] == ("part" if mapped else "whole"), serial
        scopes.append((got["stats"]["records_resolved"], len(got["identity_map"])))
        run_id = f"run-{runner.runs}"
        assert _canonical(got, run_id, previous_ids) == _canonical(expected, run_id, previous_ids), serial
        assert set(ids_by_record(got["identity_map"])) == set(records)
    assert any(resolved < total for resolved, total in scopes), scopes  # records were left alone


def test_a_value_falling_under_its_limit_links_its_holders_again(tmp_path) -> None:
    """No holder of the value changes: one record is dropped, and the value, refused at four holders,
    links the three left. Only the `guarded` mark of the map tells the next run to look at them."""
    shared = ("email", "family@mail.io")
    records = {("form", f"f{i}"): [shared] for i in range(4)}
    runner = Runner(tmp_path, CONFIG)
    first = runner.run(records, incremental=True)
    assert first["identity_map"]["customer_id"].nunique() == 4
    assert first["identity_map"]["guarded"].all()
    records[("form", "other")] = [("email", "someone@mail.io")]
    del records[("form", "f3")]
    second = runner.run(records, incremental=True)
    assert second["stats"]["scope"] == "part"
    ids = ids_by_record(second["identity_map"])
    assert len({ids[("form", f"f{i}")] for i in range(3)}) == 1


def test_a_value_crossing_its_limit_splits_the_holders_it_linked(tmp_path) -> None:
    shared = ("email", "family@mail.io")
    records = {("form", f"f{i}"): [shared] for i in range(3)}
    records.update({("form", f"x{i}"): [("phone", f"+1415555020{i}")] for i in range(4)})
    runner = Runner(tmp_path, CONFIG)
    first = ids_by_record(runner.run(records, incremental=True)["identity_map"])
    assert len({first[("form", f"f{i}")] for i in range(3)}) == 1
    records[("form", "f3")] = [shared]  # a fourth holder: the value is refused, nobody is linked by it
    second = runner.run(records, incremental=True)
    assert second["stats"]["scope"] == "part" and second["stats"]["records_resolved"] < len(records)
    ids = ids_by_record(second["identity_map"])
    assert len({ids[("form", f"f{i}")] for i in range(4)}) == 4
    assert all(ids[("form", f"x{i}")] == first[("form", f"x{i}")] for i in range(4))


def test_new_guardrail_settings_resolve_the_whole_graph(tmp_path) -> None:
    records = {("form", f"f{i}"): [("email", f"p{i}@mail.io")] for i in range(6)}
    runner = Runner(tmp_path, CONFIG)
    runner.run(records, incremental=True)
    assert runner.run(records, incremental=True)["stats"]["records_resolved"] == 0
    looser = GuardrailConfig(max_records_per_value=10)
    again = runner.run(records, incremental=True, config=looser)
    assert again["stats"]["records_resolved"] == 6


def test_past_half_of_the_records_reached_the_whole_graph_is_resolved(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(incremental, "MAX_SHARE", 0.5)
    records = {("form", f"f{i}"): [("email", f"p{i}@mail.io")] for i in range(10)}
    runner = Runner(tmp_path, CONFIG)
    runner.run(records, incremental=True)
    records.update({("form", f"f{i}"): [("email", f"q{i}@mail.io")] for i in range(4)})
    assert runner.run(records, incremental=True)["stats"]["scope"] == "part"  # 4 of 10
    records.update({("form", f"f{i}"): [("email", f"r{i}@mail.io")] for i in range(6)})
    out = runner.run(records, incremental=True)
    assert out["stats"]["scope"] == "whole" and out["stats"]["records_resolved"] == 10  # 6 of 10
    assert out["identity_map"]["customer_id"].nunique() == 10


def test_a_change_between_two_addresses_that_hash_alike_is_seen(tmp_path) -> None:
    """DuckDB's string hash gives these two real generated addresses one value (found at 10M); a
    fingerprint made of that hash alone missed A moving from B's address to C's."""
    a, b = "richard_muller161@gmail.com", "richard-muller181@gmail.com"
    records = {("form", "A"): [("email", a)], ("form", "B"): [("email", a)], ("form", "C"): [("email", b)]}
    runner = Runner(tmp_path, CONFIG)
    runner.run(records, incremental=True)
    records[("form", "A")] = [("email", b)]
    ids = ids_by_record(runner.run(records, incremental=True)["identity_map"])
    assert ids[("form", "A")] == ids[("form", "C")] != ids[("form", "B")]


def test_a_record_mapped_twice_is_resolved_again(tmp_path) -> None:
    records = {("form", "A"): [("email", "x@mail.io")], ("form", "B"): [("email", "y@mail.io")]}
    runner = Runner(tmp_path, CONFIG)
    runner.run(records, incremental=True)
    map_file = tmp_path / "identity" / "identity_map.parquet"
    written = pd.read_parquet(map_file)
    pd.concat([written, written[written["record_id"] == "A"]]).to_parquet(map_file)
    records[("form", "N")] = [("email", "z@mail.io")]
    out = runner.run(records, incremental=True)
    assert sorted(out["identity_map"]["record_id"]) == ["A", "B", "N"]
