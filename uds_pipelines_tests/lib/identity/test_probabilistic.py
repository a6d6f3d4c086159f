"""Opt-in probabilistic matching: Splink links look-alike records with no shared identifier, guardrails still apply."""

from __future__ import annotations

import sys

import duckdb
import pandas as pd
import pytest

from uds_pipelines.lib.identity import GuardrailConfig, resolve_identities
from uds_pipelines.lib.identity.probabilistic import MODEL_FIXED, ProbabilisticMatchingUnavailable
from uds_pipelines_tests.lib.identity.helpers import T0, identifiers_frame

RECORDS = {
    ("form", "p1"): [("email", "jon.smith@mail.io")],
    ("survey", "p2"): [("email", "jsmith77@work.io")],
    ("form", "q1"): [("email", "jon.smith.other@mail.io")],
    ("form", "r1"): [("email", "mia@mail.io")],
}
ATTRIBUTES = [
    ("form", "p1", "jonathan", "smith", "1980-04-02", "SW1A 1AA", "London", "10 Downing Street"),
    ("survey", "p2", "jonathon", "smith", "1980-04-02", "sw1a1aa", "london", "10 Downing St"),
    ("form", "q1", "jonathan", "smith", "1991-11-30", "M1 1AE", "Manchester", "1 Piccadilly"),
    ("form", "r1", "mia", "wong", None, None, None, None),
]
COLUMNS = [
    "source",
    "record_id",
    "first_name_key",
    "last_name_key",
    "date_of_birth",
    "postcode",
    "city",
    "address_line1",
]


def _resolve(matching: str, config: GuardrailConfig | None = None, records: dict | None = None):
    con = duckdb.connect()
    con.register("ids", identifiers_frame(records or RECORDS))
    con.register("attrs", pd.DataFrame(ATTRIBUTES, columns=COLUMNS))
    result = resolve_identities(
        con,
        "ids",
        previous_map_table=None,
        previous_registry_table=None,
        config=config or GuardrailConfig(),
        run_id="r1",
        now=T0,
        matching=matching,
        person_attributes_sql="SELECT * FROM attrs",
    )
    frame = result.arrow(con, "identity_map").to_pandas()
    links = result.arrow(con, "identity_links").to_pandas()
    return (
        dict(zip(zip(frame["source"], frame["record_id"], strict=True), frame["customer_id"], strict=True)),
        links,
        result.stats,
    )


def test_probabilistic_links_same_person_only() -> None:
    ids, links, stats = _resolve("probabilistic")
    assert ids[("form", "p1")] == ids[("survey", "p2")]
    assert ids[("form", "q1")] != ids[("form", "p1")]  # same name, other birth date and city
    assert len(set(ids.values())) == 3
    assert stats["probabilistic_links"] == 1
    fuzzy = links[links["id_type"] == "probabilistic"]
    assert len(fuzzy) == 2 and (fuzzy["match_probability"] >= 0.99).all()

    ids, _, stats = _resolve("deterministic")
    assert len(set(ids.values())) == 4 and "probabilistic_links" not in stats


def test_probabilistic_links_pass_the_guardrails() -> None:
    # Both records hold 3 emails; a limit of 4 makes the fuzzy link (lowest priority) the one cut.
    records = {
        **RECORDS,
        ("form", "p1"): [("email", f"p1-{i}@mail.io") for i in range(3)],
        ("survey", "p2"): [("email", f"p2-{i}@mail.io") for i in range(3)],
    }
    config = GuardrailConfig.from_dict({"max_values_per_type": {"email": 4}})
    ids, _, stats = _resolve("probabilistic", config, records)
    assert ids[("form", "p1")] != ids[("survey", "p2")]
    assert stats["type_limit_values_cut"] == 1


def test_missing_splink_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "splink", None)  # makes `import splink` raise ImportError
    with pytest.raises(
        ProbabilisticMatchingUnavailable, match=r"pip install 'uds_pipelines\[probabilistic\]'"
    ):
        _resolve("probabilistic")


def test_probabilistic_needs_attributes() -> None:
    con = duckdb.connect()
    con.register("ids", identifiers_frame(RECORDS))
    with pytest.raises(ValueError, match="person_attributes_sql"):
        resolve_identities(
            con,
            "ids",
            previous_map_table=None,
            previous_registry_table=None,
            config=GuardrailConfig(),
            run_id="r1",
            now=T0,
            matching="probabilistic",
        )


RAW_COLUMNS = ["source", "record_id", "first_name", "last_name", "date_of_birth", "postcode", "city", "address_line1"]  # fmt: skip


def _resolve_raw(rows: list[tuple]) -> dict:
    """Resolve records that share no identifier, from raw attributes through `person_attributes_sql`."""
    from uds_pipelines.lib import connection
    from uds_pipelines.lib.identity.sources import person_attributes_sql

    con = connection.connect(default_region="US")
    records = {(r[0], r[1]): [("email", f"{r[1]}@mail.io")] for r in rows}
    con.register("ids", identifiers_frame(records))
    con.register("raw", pd.DataFrame(rows, columns=RAW_COLUMNS))
    result = resolve_identities(
        con, "ids", previous_map_table=None, previous_registry_table=None,
        config=GuardrailConfig(), run_id="r1", now=T0, matching="probabilistic",
        person_attributes_sql=person_attributes_sql("raw"),
    )  # fmt: skip
    frame = result.arrow(con, "identity_map").to_pandas()
    return dict(zip(frame["record_id"], frame["customer_id"], strict=True))


def test_birth_dates_in_two_formats_and_address_spellings_match() -> None:
    ids = _resolve_raw(
        [
            ("form", "a1", "Jonathan", "Smith", "1980-04-02", None, None, None),
            ("form", "a2", "Jonathan", "Smith", "02/04/1980", None, None, None),  # forms write day-first
            ("stripe", "b1", "Maria", "Lopez", None, "sw1a 1aa", "London", "10 Downing Street"),
            ("form", "b2", "MARIA", "López", None, "SW1A 1AA", "LONDON", "10, downing st."),
        ]
    )
    assert ids["a1"] == ids["a2"]
    assert ids["b1"] == ids["b2"]
    assert ids["a1"] != ids["b1"]


def test_both_names_misspelt_still_compared() -> None:
    # blocking on birth date or postcode with a name's initial, not the whole (misspelt) name
    ids = _resolve_raw(
        [
            ("form", "c1", "Aditya", "Gputa", "1964-11-06", "651801", "Pune", "27 Brigade Road"),
            ("form", "c2", "Adityya", "Gupta", "06/11/1964", "651801", "Pune", None),
        ]
    )
    assert ids["c1"] == ids["c2"]


def test_same_name_and_street_but_other_house_number_or_no_name_do_not_match() -> None:
    ids = _resolve_raw(
        [
            ("stripe", "d1", "Emily", "Martinez", None, None, "Austin", "229 Townsend Street"),
            ("form", "d2", "Emily", "Martinez", None, None, "Austin", "213 Townsend St"),
            # nothing but the same address: a household member as likely as the same person
            ("stripe", "e1", None, None, None, "35130", "Austin", "72 Maple Drive"),
            ("form", "e2", "Emily", "Martinez", None, "35130", "Austin", "72 Maple Dr"),
        ]
    )
    assert len({ids["d1"], ids["d2"], ids["e1"]}) == 3
    assert ids["e1"] != ids["e2"]


def _resolve_with_links(train: bool, config: GuardrailConfig | None = None, records: dict | None = None):
    con = duckdb.connect()
    con.register("ids", identifiers_frame(records or RECORDS))
    con.register("attrs", pd.DataFrame(ATTRIBUTES, columns=COLUMNS))
    result = resolve_identities(
        con, "ids", previous_map_table=None, previous_registry_table=None,
        config=config or GuardrailConfig(), run_id="r1", now=T0, matching="probabilistic",
        person_attributes_sql="SELECT * FROM attrs", train_probabilistic=train,
    )  # fmt: skip
    return result.arrow(con, "match_links").to_pandas(), result.stats


def test_small_inputs_keep_the_fixed_weights_when_training_is_asked_for() -> None:
    # EM on a handful of records drives m towards u and matches nothing; the pipeline always asks
    # for training, so small inputs must still link the look-alike pair.
    links, stats = _resolve_with_links(train=True)
    assert stats["probabilistic_model"] == MODEL_FIXED
    assert stats["probabilistic_scored_records"] == 4
    assert stats["probabilistic_links"] == 1
    assert len(links) == 1


def test_match_links_carry_probability_and_whether_followed() -> None:
    links, stats = _resolve_with_links(train=False)
    row = links.iloc[0]
    assert {(row.source_l, row.record_id_l), (row.source_r, row.record_id_r)} == {("form", "p1"), ("survey", "p2")}
    assert row.match_probability >= 0.99 and bool(row.followed) and pd.isna(row.cut_by)
    assert row.customer_id_l == row.customer_id_r
    assert stats["probabilistic_links_cut"] == 0

    records = {
        **RECORDS,
        ("form", "p1"): [("email", f"p1-{i}@mail.io") for i in range(3)],
        ("survey", "p2"): [("email", f"p2-{i}@mail.io") for i in range(3)],
    }
    cut, stats = _resolve_with_links(False, GuardrailConfig.from_dict({"max_values_per_type": {"email": 4}}), records)
    assert len(cut) == 1 and not bool(cut.iloc[0].followed) and cut.iloc[0].cut_by == "per_type_limit"
    assert cut.iloc[0].customer_id_l != cut.iloc[0].customer_id_r
    assert stats["probabilistic_links_cut"] == 1


def test_match_links_are_empty_in_deterministic_mode() -> None:
    con = duckdb.connect()
    con.register("ids", identifiers_frame(RECORDS))
    result = resolve_identities(
        con, "ids", previous_map_table=None, previous_registry_table=None,
        config=GuardrailConfig(), run_id="r1", now=T0,
    )  # fmt: skip
    links = result.arrow(con, "match_links")
    assert links.num_rows == 0 and "match_probability" in links.column_names
