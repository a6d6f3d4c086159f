"""Identity stages on generated data, deterministic and probabilistic, against the ground truth."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from uds_pipelines.lib.identity.stage import build_inputs, resolve
from uds_pipelines_tests.generated_lake import landed_generated_lake

PERSON_SOURCES = {"stripe_customer": "stripe", "survey_response": "survey", "form_submission": "form"}


@pytest.fixture(scope="module")
def lake_pair(tmp_path_factory):
    """The same landed data resolved twice: deterministic, then (a copy) with probabilistic matching."""
    root = tmp_path_factory.mktemp("generated_identity")
    settings = landed_generated_lake(root, people=1500, seed=5)
    build_inputs(settings)
    deterministic = resolve(settings, run_id="det")
    det_map = pd.read_parquet(settings.lake_dir / "identity/identity_map.parquet")
    (settings.lake_dir / "identity/identity_map.parquet").unlink()
    (settings.lake_dir / "identity/customer_registry.parquet").unlink()
    fuzzy_settings = dataclasses.replace(settings, matching="probabilistic")
    probabilistic = resolve(fuzzy_settings, run_id="prob")
    prob_map = pd.read_parquet(fuzzy_settings.lake_dir / "identity/identity_map.parquet")
    links = pd.read_parquet(fuzzy_settings.lake_dir / "identity/match_links.parquet")
    truth = pd.read_parquet(root / "ground_truth/records.parquet")
    return deterministic, det_map, probabilistic, prob_map, links, truth


def _pair_scores(id_map: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, float]:
    people = truth[truth["source"].isin(PERSON_SOURCES) & truth["record_id"].notna()]
    joined = people.merge(id_map, on="record_id")

    def pairs(groups) -> int:
        return int(sum(n * (n - 1) // 2 for n in groups.size()))

    agree = pairs(joined.groupby(["customer_id", "person_id"]))
    return agree / pairs(joined.groupby("customer_id")), agree / pairs(joined.groupby("person_id"))


def test_probabilistic_links_are_recorded_and_join_the_same_true_person(lake_pair):
    _, _, stage, _, links, truth = lake_pair
    assert stage.stats["probabilistic_model"] == "fixed weights"  # 1,500 people: too few named records to train
    assert len(links) == stage.stats["probabilistic_links"] > 0
    assert (links["match_probability"] >= 0.99).all()
    people = truth[truth["source"].isin(PERSON_SOURCES) & truth["record_id"].notna()]
    person = people.drop_duplicates("record_id").set_index("record_id")["person_id"]
    followed = links[links["followed"]]
    left, right = followed["record_id_l"].map(person), followed["record_id_r"].map(person)
    known = left.notna() & right.notna()  # Google Forms and HubSpot rows carry no id in the truth
    assert known.sum() >= 3
    same = left[known] == right[known]
    assert same.mean() >= 0.95, f"{(~same).sum()} of {known.sum()} fuzzy links join different people"


def test_probabilistic_matching_adds_recall_without_losing_precision(lake_pair):
    _, det_map, _, prob_map, _, truth = lake_pair
    det_p, det_r = _pair_scores(det_map, truth)
    prob_p, prob_r = _pair_scores(prob_map, truth)
    assert det_p >= 0.999
    assert prob_r > det_r
    assert prob_p >= 0.99
