"""Connected components: scipy and the numpy fallback agree, and chains of identifiers join up."""

from __future__ import annotations

import duckdb
import numpy as np

from uds_pipelines.lib.identity import GuardrailConfig, linking
from uds_pipelines.lib.identity.graph import _labels_numpy, component_labels
from uds_pipelines_tests.lib.identity.helpers import Runner, identifiers_frame, ids_by_record


def _partition(labels: np.ndarray) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for node, label in enumerate(labels.tolist()):
        groups.setdefault(label, set()).add(node)
    return {frozenset(g) for g in groups.values()}


def _reference(rec: np.ndarray, val: np.ndarray, n_rec: int, n_val: int) -> set[frozenset[int]]:
    """Plain union-find over record pairs sharing a value: the obviously-correct answer."""
    parent = list(range(n_rec))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first: dict[int, int] = {}
    for r, v in zip(rec.tolist(), val.tolist(), strict=True):
        if v in first:
            parent[find(r)] = find(first[v])
        else:
            first[v] = r
    return _partition(np.array([find(x) for x in range(n_rec)]))


def test_scipy_and_numpy_fallback_match_reference_on_random_graphs() -> None:
    rng = np.random.default_rng(42)
    for n_rec, n_val, n_edges in [(50, 40, 60), (400, 300, 500), (1000, 2000, 900), (5, 3, 0)]:
        rec = rng.integers(0, n_rec, n_edges)
        val = rng.integers(0, n_val, n_edges)
        expected = _reference(rec, val, n_rec, n_val)
        assert _partition(component_labels(rec, val, n_rec, n_val)) == expected
        assert _partition(_labels_numpy(rec, val + n_rec, n_rec + n_val)[:n_rec]) == expected


def test_long_path_converges_in_numpy_fallback() -> None:
    # A path r0-v0-r1-v1-...: the worst case for label propagation, a few steps for pointer jumping.
    n = 5000
    rec = np.concatenate([np.arange(n - 1), np.arange(1, n)])
    val = np.concatenate([np.arange(n - 1), np.arange(n - 1)])
    labels = _labels_numpy(rec, val + n, n + n - 1)[:n]
    assert len(set(labels.tolist())) == 1


def test_chain_email_then_phone_is_one_person(tmp_path) -> None:
    records = {
        ("form", "A"): [("email", "ann@mail.io")],
        ("survey", "B"): [("email", "ann@mail.io"), ("phone", "+14155550123")],
        ("stripe", "cus_C"): [("phone", "+14155550123"), ("stripe_customer", "cus_C")],
        ("form", "D"): [("email", "dan@mail.io")],
    }
    out = Runner(tmp_path).run(records)
    ids = ids_by_record(out["identity_map"])
    assert len(out["identity_map"]) == 4
    assert ids[("form", "A")] == ids[("survey", "B")] == ids[("stripe", "cus_C")]
    assert ids[("form", "D")] != ids[("form", "A")]
    assert "ann@mail.io" not in str(out["stats"]) and "4155550123" not in str(out["stats"])
    links = out["identity_links"]
    assert set(links["id_type"]) == {"email", "phone"}
    assert set(links["customer_id"]) == {ids[("form", "A")]}


def _record_partition(con) -> set[frozenset[tuple[str, str]]]:
    rows = con.execute(
        "SELECT c.comp, r.source, r.record_id FROM _idr_comp c JOIN _idr_records r USING (rec_idx)"
    ).fetchall()
    groups: dict[int, set[tuple[str, str]]] = {}
    for comp, source, record_id in rows:
        groups.setdefault(comp, set()).add((source, record_id))
    return {frozenset(g) for g in groups.values()}


def test_exact_key_path_matches_hashed_path() -> None:
    records = {
        ("form", f"r{i}"): [("email", f"user{i // 3}@mail{i % 7}.com"), ("phone", f"+1415555{i // 5:04d}")]
        for i in range(300)
    }
    records[("form", "junk")] = [("email", "noreply@shop.io")]
    partitions = []
    for exact in (False, True):
        con = duckdb.connect()
        con.register("ids", identifiers_frame(records))
        n_rec, _ = linking.build_graph(con, "ids", GuardrailConfig(), exact_keys=exact)
        linking.compute_components(con)
        assert n_rec == 301
        blocked = con.execute("SELECT rule FROM _idr_values WHERE id_value = 'noreply@shop.io'").fetchall()
        assert blocked == [("blocked_pattern",)]
        partitions.append(_record_partition(con))
    assert partitions[0] == partitions[1]
    assert len(partitions[0]) < 301  # the chains really joined records


# Two e-mails DuckDB's string hash gives the same key (`hash('email' || chr(31) || value)`), found
# among generated people: the graph must keep them apart without ranking every text exactly.
COLLIDING = ("alexander_muller25@t-online.de", "alexander.muller22@t-online.de")


def test_texts_whose_hashes_collide_stay_apart_without_the_exact_path() -> None:
    con = duckdb.connect()
    keys = con.execute(f"SELECT hash('email' || chr(31) || unnest({list(COLLIDING)}))").fetchall()
    assert keys[0] == keys[1]  # the premise: DuckDB's hash really collides for these
    records = {("form", "a1"): [("email", COLLIDING[0])], ("form", "a2"): [("email", COLLIDING[0])]}
    records |= {("form", "b1"): [("email", COLLIDING[1])], ("form", "b2"): [("email", COLLIDING[1])]}
    con.register("ids", identifiers_frame(records))
    statements = []
    traced = type(
        "Traced", (), {"execute": lambda _self, sql, *a: statements.append(sql) or con.execute(sql, *a)}
    )()
    assert linking.build_graph(traced, "ids", GuardrailConfig()) == (4, 2)
    assert not [sql for sql in statements if "dense_rank" in sql]  # only the clashing texts re-keyed
    linking.compute_components(con)
    assert _record_partition(con) == {
        frozenset({("form", "a1"), ("form", "a2")}),
        frozenset({("form", "b1"), ("form", "b2")}),
    }


def test_only_the_clashing_keys_are_grouped_again_and_the_graph_is_the_exact_one() -> None:
    # the colliding e-mails among other records, record references and self-references
    records = {("form", f"r{i}"): [("email", f"user{i // 3}@mail{i % 7}.com"), ("record", f"form:r{i}")]
               for i in range(60)}  # fmt: skip
    records |= {("form", "a1"): [("email", COLLIDING[0]), ("record", "form:r1")], ("form", "a2"): [("email", COLLIDING[0])]}
    records |= {("form", "b1"): [("email", COLLIDING[1]), ("record", "form:r2")], ("form", "b2"): [("email", COLLIDING[1])]}
    graphs = []
    for exact in (False, True):
        con = duckdb.connect()
        con.register("ids", identifiers_frame(records))
        statements: list[str] = []
        traced = type(
            "Traced", (), {"execute": lambda _self, sql, *a, c=con, s=statements: s.append(sql) or c.execute(sql, *a)}
        )()
        sizes = linking.build_graph(traced, "ids", GuardrailConfig(), exact_keys=exact)
        if not exact:
            whole = [sql for sql in statements if "CREATE OR REPLACE TEMP TABLE _idr_rec_keys" in sql]
            assert len(whole) == 1  # grouped once, then only the re-keyed texts' groups added
        linking.compute_components(con)
        values = con.execute("SELECT id_type, id_value, n_records, rule FROM _idr_values ORDER BY ALL").fetchall()
        graphs.append((sizes, _record_partition(con), values))
    assert graphs[0] == graphs[1]
    assert {frozenset({("form", "a1"), ("form", "a2"), ("form", "r1")}),
            frozenset({("form", "b1"), ("form", "b2"), ("form", "r2")})} <= graphs[0][1]  # fmt: skip


def test_a_record_id_whose_key_clashes_with_a_value_links_nothing(monkeypatch) -> None:
    # A record's own `record` id is left out of the values (only its record carries it); were its
    # key equal to a real value's, the records would still meet on that key unless the clash is seen.
    clash = "hash('email' || chr(31) || 'a@x.io')"
    monkeypatch.setattr(
        linking, "VALUE_KEY",
        f"CASE WHEN id_type = 'record' AND id_value = 'f:5' THEN {clash} ELSE {linking.VALUE_KEY} END",
    )  # fmt: skip
    records = {("f", "1"): [("email", "a@x.io")], ("f", "2"): [("email", "a@x.io")], ("f", "5"): []}
    partitions = []
    for exact in (False, True):
        con = duckdb.connect()
        con.register("ids", identifiers_frame(records))
        linking.build_graph(con, "ids", GuardrailConfig(), exact_keys=exact)
        linking.compute_components(con)
        partitions.append(_record_partition(con))
    assert partitions[0] == partitions[1] == {frozenset({("f", "1"), ("f", "2")}), frozenset({("f", "5")})}


def test_record_reference_links_when_another_record_carries_it(tmp_path) -> None:
    # Own `record` ids link nothing by themselves, but a record pointing at another record's id does.
    records = {
        ("stripe", "cus_1"): [],
        ("form", "x"): [("record", "stripe:cus_1")],
        ("form", "y"): [],
    }
    out = Runner(tmp_path).run(records)
    ids = ids_by_record(out["identity_map"])
    assert ids[("form", "x")] == ids[("stripe", "cus_1")] != ids[("form", "y")]
    assert out["stats"]["records"] == 3
