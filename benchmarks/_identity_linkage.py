"""Side by side on the linkage generator's records: Splink alone with its documented templates, and scoring.

`splink_alone` follows Splink's own deduplication examples (docs/demos/examples/duckdb): the
out-of-the-box comparison templates (`NameComparison` with term-frequency adjustments,
`DateOfBirthComparison`, Damerau-Levenshtein on postcode, Jaro-Winkler on address and city),
the prior from deterministic rules, u by random sampling, m by EM on two blocking rules, and
connected components at match probability 0.99. It sees the generator's raw fields, only lower-cased
and trimmed (the examples' own preparation). `pair_and_cluster_scores` scores any clustering
against the truth: pairwise precision / recall / F1 of same-person decisions and the share of
predicted and true clusters that agree exactly.
"""

from __future__ import annotations

import logging
import time

import duckdb
import pandas as pd

FIELDS = ["first_name", "last_name", "date_of_birth", "address_line1", "city", "postcode"]
CLUSTER_THRESHOLD = 0.99
SEED = 42


def splink_alone(records: pd.DataFrame, seed: int = SEED) -> tuple[pd.DataFrame, float]:
    """Cluster `records` (record_id + FIELDS) with Splink alone; returns (record_id, cluster_id) and seconds."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    frame = records[["record_id", *FIELDS]].rename(columns={"record_id": "unique_id"}).copy()
    for col in FIELDS:
        text = frame[col].astype("string").str.strip().str.lower()
        frame[col] = text.where(text.notna() & (text != ""), None).astype(object)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_line1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("city", [0.9, 0.7]).configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "last_name"),
            block_on("last_name", "date_of_birth"),
            block_on("first_name", "date_of_birth"),
            block_on("postcode", "first_name"),
            block_on("postcode", "last_name"),
            block_on("date_of_birth", "city"),
            block_on("substr(first_name,1,2)", "substr(last_name,1,2)", "substr(date_of_birth,1,4)"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    con = duckdb.connect(":memory:")
    try:
        splink_frame = DuckDBAPI(connection=con).register(frame, table_name="records")
        linker = Linker(splink_frame, settings, log_level=logging.WARNING)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "last_name", "date_of_birth"), block_on("date_of_birth", "postcode")],
            recall=0.7,
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
        for rule in (block_on("first_name", "last_name"), block_on("date_of_birth")):
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        predictions = linker.inference.predict(threshold_match_probability=0.2)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=CLUSTER_THRESHOLD
        ).as_pandas_dataframe()
    finally:
        con.close()
    out = clusters[["unique_id", "cluster_id"]].rename(columns={"unique_id": "record_id"})
    return out.astype({"record_id": str, "cluster_id": str}), time.perf_counter() - started


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def pair_and_cluster_scores(predicted: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Score `predicted` (record_id, cluster_id) against `truth` (record_id, person_id).

    Records missing from `predicted` count as singletons (a resolver that dropped them linked nothing).
    """
    joined = truth[["record_id", "person_id"]].astype(str).merge(
        predicted[["record_id", "cluster_id"]].astype(str), on="record_id", how="left"
    )
    joined["cluster_id"] = joined["cluster_id"].fillna("single:" + joined["record_id"])
    agree = _pairs(joined.groupby(["cluster_id", "person_id"]).size())
    pred = _pairs(joined.groupby("cluster_id").size())
    true = _pairs(joined.groupby("person_id").size())
    p = agree / pred if pred else 1.0
    r = agree / true if true else 1.0
    # a cluster is right when it holds exactly the records of one person
    pred_sets = set(joined.groupby("cluster_id")["record_id"].apply(frozenset))
    true_sets = set(joined.groupby("person_id")["record_id"].apply(frozenset))
    exact = len(pred_sets & true_sets)
    cp, cr = exact / len(pred_sets), exact / len(true_sets)
    return {
        "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "cluster_precision": cp, "cluster_recall": cr,
        "cluster_f1": 2 * cp * cr / (cp + cr) if cp + cr else 0.0,
        "records": len(joined), "true_pairs": true, "predicted_pairs": pred,
    }  # fmt: skip
