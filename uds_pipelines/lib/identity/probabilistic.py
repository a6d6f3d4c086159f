"""Optional fuzzy matching (Splink, DuckDB backend) on name, birth date and address for records with no shared identifier.

The model (`match_model`) is trained on the data whenever there are enough named records: the prior
from deterministic rules, u by seeded random sampling, m by EM. The link threshold is then read off
the trained model (`match_threshold.expected_f1_threshold`); small inputs, or a failed EM, score with
fixed fallback weights at the configured `match_threshold`. Pairs within `REVIEW_BAND` of the
threshold are kept, with their weights and compared keys, for the `match_review` table.
"""

from __future__ import annotations

import logging

import duckdb

from uds_pipelines.lib import catalog, lake
from uds_pipelines.lib.identity import match_model, match_threshold, scratch
from uds_pipelines.lib.identity.graph import query_arrow

# Below this many named records EM has too few matching pairs to estimate m (on a 3-record test it
# drove every m towards u and found nothing), so small inputs keep the fallback weights.
MIN_RECORDS_TO_TRAIN = 1_000
MODEL_FIXED = "fixed weights"
MODEL_TRAINED = "trained (prior: deterministic rules, u: random sampling, m: EM)"
SEED = 16  # u sampling; with it, the same input gives the same model, links and ids
U_MAX_PAIRS = 5e5
# Pairs scored below this weight (odds 1:1000) are never links nor worth a review; dropping them at
# predict keeps millions of blocked non-matches out of Python.
SCORE_FLOOR_WEIGHT = -10.0
REVIEW_BAND = 4.0  # match-weight units (a factor 16 in odds) either side of the threshold


class ProbabilisticMatchingUnavailable(RuntimeError):
    """Splink is not installed."""


def _import_splink():
    try:
        import splink.blocking_rule_library as brl
        import splink.comparison_level_library as cll
        import splink.comparison_library as cl
        from splink import DuckDBAPI, Linker, SettingsCreator
    except ImportError as exc:
        raise ProbabilisticMatchingUnavailable(
            "probabilistic matching (UDS_MATCHING=probabilistic) needs Splink: "
            "pip install 'uds_pipelines[probabilistic]'"
        ) from exc
    return cl, cll, brl, DuckDBAPI, Linker, SettingsCreator


def _attributes(con: duckdb.DuckDBPyConnection, person_attributes_sql: str):
    return query_arrow(
        con,
        f"""
        -- Splink's id is the record's rank by (source, record_id), not rec_idx: rec_idx is numbered
        -- in scan order, which varies between runs on large inputs, and Splink's u sample is a hash
        -- of the id, so ids that move made the model and the links drift from run to run.
        SELECT row_number() OVER (ORDER BY r.source, r.record_id) AS unique_id, r.rec_idx,
               nullif(lower(trim(a.first_name_key::VARCHAR)), '') AS first_name_key,
               nullif(lower(trim(a.last_name_key::VARCHAR)), '') AS last_name_key,
               -- a DATE, or ISO text; anything else (an unparsed `05/12/1979`) is never compared
               strftime(TRY_CAST(a.date_of_birth AS DATE), '%Y-%m-%d') AS date_of_birth,
               nullif(upper(regexp_replace(a.postcode::VARCHAR, '[^0-9A-Za-z]', '', 'g')), '') AS postcode,
               nullif(lower(trim(a.city::VARCHAR)), '') AS city,
               nullif(lower(regexp_replace(trim(a.address_line1::VARCHAR), '\\s+', ' ', 'g')), '') AS address_line1,
               array_to_string(regexp_extract_all(a.address_line1::VARCHAR, '[0-9]+'), ' ') AS house_numbers
        FROM ({person_attributes_sql}) a
        JOIN {scratch.RECORDS} r ON r.source = a.source::VARCHAR AND r.record_id = a.record_id::VARCHAR
        -- a record with no name is never scored: an address alone is a household, not a person
        WHERE coalesce(a.first_name_key, a.last_name_key) IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY r.rec_idx ORDER BY a.source, a.record_id) = 1
        """,
    )


def _train(linker, block_on) -> None:
    """Splink's documented sequence: prior from deterministic rules, u by sampling, m by EM per rule."""
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*rule) for rule in match_model.PRIOR_RULES], recall=match_model.PRIOR_RULES_RECALL
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
    for rule in match_model.EM_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*rule), estimate_without_term_frequencies=True
        )


def probabilistic_pairs(
    con: duckdb.DuckDBPyConnection,
    person_attributes_sql: str,
    *,
    threshold: float,
    train: bool = False,
    table: str = scratch.PROB_PAIRS,
    report: dict | None = None,
) -> int:
    """Create `table(rec_l, rec_r, match_probability, match_weight)`: matches at or above the threshold
    between records of different deterministic components (`_idr_records`, `_idr_comp` must exist),
    and `_idr_prob_review`: every scored pair within `REVIEW_BAND` of it. Returns the match count.

    `threshold` (a probability) applies to the fallback weights; `train=True` trains the model when
    there are at least `MIN_RECORDS_TO_TRAIN` named records and takes the threshold from it.
    `report` (if given) gets `model`, `scored_records`, `threshold`, `threshold_weight`,
    `threshold_rule`, `scored_pairs`, `review_pairs` and `weight_histogram` (scored pairs per
    2-unit match-weight bin, from `SCORE_FLOOR_WEIGHT` up).
    """
    report = report if report is not None else {}
    cl, cll, brl, DuckDBAPI, Linker, SettingsCreator = _import_splink()  # noqa: N806
    attrs = _attributes(con, person_attributes_sql)
    report.update(model=MODEL_FIXED, scored_records=attrs.num_rows)
    # Splink gets its own connection so its many scratch tables never touch the caller's; under the
    # caller's memory limit, spilling to disk (unbounded, it held 4.7 GB on a million records).
    limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    splink_con = lake.duckdb_connection(limit.replace(" ", ""))
    try:
        if attrs.num_rows < 2:
            scored = match_threshold.empty_scored()
        else:
            splink_con.register("uds_record_ids", attrs.select(["unique_id", "rec_idx"]))
            frame = DuckDBAPI(connection=splink_con).register(
                attrs.drop_columns(["rec_idx"]), table_name="uds_person_attributes"
            )

            def new_linker(trained: bool):
                model = match_model.settings(cl, cll, brl, SettingsCreator, trained=trained)
                # the settings are fixed code, checked by the tests: validating them costs ~0.4 s a run
                return Linker(frame, model, log_level=logging.WARNING, validate_settings=False)

            linker = None
            if train and attrs.num_rows >= MIN_RECORDS_TO_TRAIN:
                try:
                    linker = new_linker(True)
                    _train(linker, brl.block_on)
                    report["model"] = MODEL_TRAINED
                # Splink raises several types when EM cannot run (e.g. no pair shares a birth date);
                # matching then goes on with the fallback weights rather than failing the whole run.
                except Exception as exc:  # noqa: BLE001
                    # the type only: Splink's messages can quote rows, and this reaches metadata and logs
                    report["training_error"] = type(exc).__name__
                    linker = None
            linker = linker or new_linker(False)
            predictions = linker.inference.predict(
                threshold_match_weight=SCORE_FLOOR_WEIGHT, warning_mode="never"
            )
            keys = ", ".join(f"{c}_l, {c}_r" for c in catalog.MATCH_REVIEW_KEYS)
            scored = query_arrow(
                splink_con,
                f"SELECT il.rec_idx AS rec_l, ir.rec_idx AS rec_r, match_weight, match_probability, {keys} "
                f"FROM {predictions.physical_name} p JOIN uds_record_ids il ON il.unique_id = p.unique_id_l "
                "JOIN uds_record_ids ir ON ir.unique_id = p.unique_id_r",
            )
    finally:
        splink_con.close()
    trained = report["model"] == MODEL_TRAINED
    return match_threshold.split_scored(con, scored, threshold, trained, table, report, REVIEW_BAND)
