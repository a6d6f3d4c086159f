"""Opt-in probabilistic matching: Splink links look-alike records with no shared identifier, guardrails still apply."""

from __future__ import annotations

import sys

import duckdb
import pandas as pd
import pytest

from uds_pipelines.lib.identity import GuardrailConfig, resolve_identities
from uds_pipelines.lib.identity.probabilistic import ProbabilisticMatchingUnavailable
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
        "SELECT * FROM ids",
        previous_map_path=None,
        previous_registry_path=None,
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
            "SELECT * FROM ids",
            previous_map_path=None,
            previous_registry_path=None,
            config=GuardrailConfig(),
            run_id="r1",
            now=T0,
            matching="probabilistic",
        )
