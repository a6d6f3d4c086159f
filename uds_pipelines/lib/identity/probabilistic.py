"""Optional fuzzy matching (Splink, DuckDB backend) on name, birth date and address for records with no shared identifier.

The attributes arrive as match keys (`identity.sources.person_attributes_sql`): birth dates as
DATEs, addresses and cities folded with `lib.normalize.address`. Birth date, postcode, city and
address are compared exactly on those keys; an address also scores, lower, when its house numbers
are the same and the rest is close (a typo in the street), never across different house numbers."""

from __future__ import annotations

import logging

import duckdb

from uds_pipelines.lib.identity import scratch
from uds_pipelines.lib.identity.graph import query_arrow

ATTRIBUTE_COLUMNS = (
    "first_name_key",
    "last_name_key",
    "date_of_birth",
    "postcode",
    "city",
    "address_line1",
)
# Fixed m/u values (no training by default): small or skewed inputs make EM unstable, and fixed
# values give the same answer on every run. The prior is deliberately low so that a shared full
# name plus city alone stays below a 0.99 threshold while name + birth date or exact address passes.
PRIOR_MATCH = 1e-5
NAME_M, NAME_U = [0.85, 0.08, 0.04, 0.03], [0.004, 0.006, 0.02, 0.97]
DOB_M, DOB_U = [0.95, 0.05], [0.0003, 0.9997]
POSTCODE_M, POSTCODE_U = [0.9, 0.1], [0.001, 0.999]
CITY_M, CITY_U = [0.9, 0.1], [0.02, 0.98]
ADDRESS_M, ADDRESS_U = [0.85, 0.05, 0.1], [0.0005, 0.0002, 0.9993]
# Same house numbers (every digit run, in order) and a Jaro-Winkler of at least 0.9 on the key.
# Below this many named records EM has too few matching pairs to estimate m: on a 3-record test
# it drove every m towards u and found no match at all, so small inputs keep the fixed values.
MIN_RECORDS_TO_TRAIN = 5_000
MODEL_FIXED = "fixed weights"
MODEL_TRAINED = "trained (u: random sampling, m: EM)"
SAME_NUMBERS_CLOSE_STREET = (
    "regexp_extract_all(address_line1_l, '[0-9]+') = regexp_extract_all(address_line1_r, '[0-9]+') "
    "AND jaro_winkler_similarity(address_line1_l, address_line1_r) >= 0.9"
)


class ProbabilisticMatchingUnavailable(RuntimeError):
    """Splink is not installed."""


def _import_splink():
    try:
        import splink.comparison_level_library as cll
        import splink.comparison_library as cl
        from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    except ImportError as exc:
        raise ProbabilisticMatchingUnavailable(
            "probabilistic matching (UDS_MATCHING=probabilistic) needs Splink: "
            "pip install 'uds_pipelines[probabilistic]'"
        ) from exc
    return (cl, cll), DuckDBAPI, Linker, SettingsCreator, block_on


def _address_comparison(cl, cll):
    return cl.CustomComparison(
        output_column_name="address_line1",
        comparison_levels=[
            cll.NullLevel("address_line1"),
            cll.ExactMatchLevel("address_line1"),
            cll.CustomLevel(
                SAME_NUMBERS_CLOSE_STREET, label_for_charts="same house numbers, street JW >= 0.9"
            ),
            cll.ElseLevel(),
        ],
    ).configure(m_probabilities=ADDRESS_M, u_probabilities=ADDRESS_U)


def _settings(libraries, SettingsCreator, block_on):  # noqa: N803 - Splink class passed in
    cl, cll = libraries
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=PRIOR_MATCH,
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name_key", [0.92, 0.8]).configure(
                m_probabilities=NAME_M, u_probabilities=NAME_U
            ),
            cl.JaroWinklerAtThresholds("last_name_key", [0.92, 0.8]).configure(
                m_probabilities=NAME_M, u_probabilities=NAME_U
            ),
            cl.ExactMatch("date_of_birth").configure(m_probabilities=DOB_M, u_probabilities=DOB_U),
            cl.ExactMatch("postcode").configure(m_probabilities=POSTCODE_M, u_probabilities=POSTCODE_U),
            cl.ExactMatch("city").configure(m_probabilities=CITY_M, u_probabilities=CITY_U),
            _address_comparison(cl, cll),
        ],
        blocking_rules_to_generate_predictions=[
            # Each high-cardinality attribute is paired with the initial of either name, so typos
            # (rarely in the first letter) or a missing name do not keep a pair from being scored.
            block_on("date_of_birth", "substr(last_name_key, 1, 1)"),
            block_on("date_of_birth", "substr(first_name_key, 1, 1)"),
            block_on("postcode", "substr(last_name_key, 1, 1)"),
            block_on("postcode", "substr(first_name_key, 1, 1)"),
            block_on("postcode", "address_line1"),
            block_on("first_name_key", "last_name_key", "city"),
        ],
        retain_matching_columns=False,
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
    """Create `table(rec_l, rec_r, match_probability)`: Splink matches >= `threshold` between records
    of different deterministic components (`_idr_records`, `_idr_comp` must exist). Returns the count.

    `train=True` re-estimates u by random sampling and m by EM on two blocking rules, starting from
    the fixed values, when there are at least `MIN_RECORDS_TO_TRAIN` named records; `report` (if
    given) gets `model` (which weights scored the pairs) and `scored_records`.
    """
    report = report if report is not None else {}
    libraries, DuckDBAPI, Linker, SettingsCreator, block_on = _import_splink()  # noqa: N806
    attrs = query_arrow(
        con,
        f"""
        SELECT r.rec_idx AS unique_id,
               nullif(lower(trim(a.first_name_key::VARCHAR)), '') AS first_name_key,
               nullif(lower(trim(a.last_name_key::VARCHAR)), '') AS last_name_key,
               -- a DATE, or ISO text; anything else (an unparsed `05/12/1979`) is never compared
               strftime(TRY_CAST(a.date_of_birth AS DATE), '%Y-%m-%d') AS date_of_birth,
               nullif(upper(regexp_replace(a.postcode::VARCHAR, '[^0-9A-Za-z]', '', 'g')), '') AS postcode,
               nullif(lower(trim(a.city::VARCHAR)), '') AS city,
               nullif(lower(regexp_replace(trim(a.address_line1::VARCHAR), '\\s+', ' ', 'g')), '') AS address_line1
        FROM ({person_attributes_sql}) a
        JOIN {scratch.RECORDS} r ON r.source = a.source::VARCHAR AND r.record_id = a.record_id::VARCHAR
        WHERE coalesce(a.first_name_key, a.last_name_key) IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY r.rec_idx) = 1
        """,
    )
    empty = f"CREATE OR REPLACE TEMP TABLE {table} (rec_l BIGINT, rec_r BIGINT, match_probability DOUBLE)"
    report.update(model=MODEL_FIXED, scored_records=attrs.num_rows)
    if attrs.num_rows < 2:
        con.execute(empty)
        return 0
    # Splink gets its own connection so its many scratch tables never touch the caller's.
    splink_con = duckdb.connect(":memory:")
    try:
        db_api = DuckDBAPI(connection=splink_con)
        frame = db_api.register(attrs, table_name="uds_person_attributes")

        def new_linker():
            return Linker(frame, _settings(libraries, SettingsCreator, block_on), log_level=logging.WARNING)

        linker = new_linker()
        if train and attrs.num_rows >= MIN_RECORDS_TO_TRAIN:
            try:
                linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
                for rule in (block_on("date_of_birth"), block_on("postcode")):
                    linker.training.estimate_parameters_using_expectation_maximisation(rule)
                report["model"] = MODEL_TRAINED
            # Splink raises several types when EM cannot run (e.g. no pair shares a birth date);
            # matching then goes on with the fixed weights rather than failing the whole run.
            except Exception as exc:  # noqa: BLE001
                # the type only: Splink's messages can quote rows, and this reaches metadata and logs
                report["training_error"] = type(exc).__name__
                linker = new_linker()
        predictions = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        pairs = query_arrow(
            splink_con,
            f"SELECT unique_id_l::BIGINT AS rec_l, unique_id_r::BIGINT AS rec_r, match_probability "
            f"FROM {predictions.physical_name} WHERE match_probability >= {float(threshold)!r}",
        )
    finally:
        splink_con.close()
    con.register(scratch.PAIRS_ARROW, pairs)
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT least(p.rec_l, p.rec_r) AS rec_l, greatest(p.rec_l, p.rec_r) AS rec_r, p.match_probability
            FROM {scratch.PAIRS_ARROW} p
            JOIN {scratch.COMP} a ON a.rec_idx = p.rec_l JOIN {scratch.COMP} b ON b.rec_idx = p.rec_r
            WHERE a.comp <> b.comp
            """
        )
    finally:
        con.unregister(scratch.PAIRS_ARROW)
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
