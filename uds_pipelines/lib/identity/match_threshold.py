"""From Splink's scored pairs to links: the threshold read off the trained model, the review band, the histogram.

The threshold rule: a trained model gives each scored pair a match probability p. Taken at its word,
linking the k most probable pairs is expected to find TP(k) = the sum of their p true matches out
of S = the sum of p over all scored pairs, so its expected pairwise F1 is 2 TP(k) / (k + S). The
threshold is the p of the pair where that peaks. It moves with the data (more typos, a higher
share of look-alike strangers) instead of being fixed by hand; the fallback weights are not fitted
to the data, so with them the configured `match_threshold` applies.
"""

from __future__ import annotations

import math

import duckdb
import pyarrow as pa

from uds_pipelines.lib import catalog
from uds_pipelines.lib.identity import scratch

SCORED_SCHEMA = pa.schema(
    [("rec_l", pa.int64()), ("rec_r", pa.int64()), ("match_weight", pa.float64()),
     ("match_probability", pa.float64())]
    + [(f"{k}_{side}", pa.string()) for k in catalog.MATCH_REVIEW_KEYS for side in ("l", "r")]
)  # fmt: skip
HISTOGRAM_BIN = 2  # match-weight units per histogram bar


def empty_scored() -> pa.Table:
    return SCORED_SCHEMA.empty_table()


def weight_of(probability: float) -> float:
    probability = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log2(probability / (1 - probability))


def expected_f1_threshold(con: duckdb.DuckDBPyConnection, scored: str) -> tuple[float, float] | None:
    """(probability, match weight) where the model's own expected pairwise F1 peaks; None: nothing scored."""
    row = con.execute(
        f"""
        WITH ranked AS (
            SELECT match_probability AS p, match_weight AS w,
                   sum(match_probability) OVER (ORDER BY match_weight DESC, rec_l, rec_r) AS tp,
                   row_number() OVER (ORDER BY match_weight DESC, rec_l, rec_r) AS k
            FROM {scored}
        )
        SELECT p, w FROM ranked
        ORDER BY 2 * tp / (k + (SELECT sum(match_probability) FROM {scored})) DESC, k LIMIT 1
        """
    ).fetchall()
    return (float(row[0][0]), float(row[0][1])) if row else None


def split_scored(
    con: duckdb.DuckDBPyConnection,
    scored: pa.Table,
    threshold: float,
    trained: bool,
    table: str,
    report: dict,
    review_band: float = 4.0,
) -> int:
    """Keep the scored pairs between different deterministic components in `_idr_prob_scored`; links
    (weight >= the threshold's) go to `table`, pairs within `review_band` of it to `_idr_prob_review`."""
    con.register(scratch.PAIRS_ARROW, scored)
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {scratch.PROB_SCORED} AS
            SELECT least(p.rec_l, p.rec_r) AS rec_l, greatest(p.rec_l, p.rec_r) AS rec_r,
                   p.* EXCLUDE (rec_l, rec_r), a.comp <> b.comp AS across
            FROM {scratch.PAIRS_ARROW} p
            JOIN {scratch.COMP} a ON a.rec_idx = p.rec_l JOIN {scratch.COMP} b ON b.rec_idx = p.rec_r
            """
        )
    finally:
        con.unregister(scratch.PAIRS_ARROW)
    chosen = expected_f1_threshold(con, scratch.PROB_SCORED) if trained else None
    probability, weight = chosen if chosen else (threshold, weight_of(threshold))
    report.update(
        threshold=round(probability, 6),
        threshold_weight=round(weight, 3),
        threshold_rule="expected F1 of the trained model" if chosen else "configured match_threshold",
        scored_pairs=int(scored.num_rows),
        weight_histogram=histogram(con, weight),
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT rec_l, rec_r, match_probability, match_weight FROM {scratch.PROB_SCORED}
        WHERE across AND match_weight >= {weight!r};
        CREATE OR REPLACE TEMP TABLE {scratch.PROB_REVIEW} AS
        SELECT * EXCLUDE (across), {weight!r}::DOUBLE AS threshold_weight, match_weight >= {weight!r} AS above_threshold
        FROM {scratch.PROB_SCORED} WHERE across AND abs(match_weight - {weight!r}) <= {float(review_band)!r};
        DROP TABLE {scratch.PROB_SCORED};
        """
    )
    report["review_pairs"] = con.execute(f"SELECT count(*) FROM {scratch.PROB_REVIEW}").fetchall()[0][0]
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def histogram(con: duckdb.DuckDBPyConnection, threshold_weight: float) -> list[list]:
    """[[bin start, pairs, 'threshold' / 'links' / ''], ...] over all scored pairs, by match weight."""
    rows = con.execute(
        f"""
        SELECT floor(match_weight / {HISTOGRAM_BIN}) * {HISTOGRAM_BIN} AS bin, count(*) AS pairs
        FROM {scratch.PROB_SCORED} GROUP BY 1 ORDER BY 1
        """
    ).fetchall()

    def side(start: float) -> str:
        if start <= threshold_weight < start + HISTOGRAM_BIN:
            return "threshold"
        return "links" if start >= threshold_weight else ""

    return [[int(b), int(n), side(b)] for b, n in rows]
