"""Identity accuracy on the generator's ground truth, shared by bench_identity.py and bench_identity_truth.py.

`measure_accuracy` generates (cached under benchmarks/.cache/), lands, stages, builds identity inputs
and resolves in every matching mode, each stage in its own subprocess for its peak RSS, then scores
pairwise precision / recall / F1 of same-person decisions against the generator's `records.parquet`.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ensure_generated, fmt_table, link_tree, run_measured  # noqa: E402

from uds_pipelines.lib import catalog, connection, lake_views  # noqa: E402
from uds_pipelines.lib.identity.graph import component_labels, query_arrow  # noqa: E402
from uds_pipelines.lib.identity.guardrails import GuardrailConfig, blocked_rule_sql  # noqa: E402
from uds_pipelines.lib.lake import files_relation  # noqa: E402

STAGES_PY = Path(__file__).resolve().parent / "_stages.py"
PREP = ["land_stripe", "land_files", "staging", "identity_inputs"]
# Matching mode -> the lake (under the data dir) its identity tables are written to; `_stages.py`
# writes each mode there (the deterministic one into the pipeline's own lake).
MODES = {
    "deterministic": "lake",
    # Splink with the fixed m/u values (what resolve_identities uses on small inputs).
    "probabilistic": "lake_probabilistic",
    # Splink re-estimating u (random sampling) and m (EM): what UDS_MATCHING=probabilistic runs.
    "probabilistic_trained": "lake_probabilistic_trained",
}
EVENTS_PER_PERSON = 10

# Landed person records with their true person; surveys and forms are matched on file + position
# because Google Forms and HubSpot rows carry no id of their own in the truth. `{records}` is the
# generator's truth file (not a lake table); the landed tables are the lake's views.
TRUTH_SQL = """
CREATE OR REPLACE TABLE truth AS
WITH t AS (
    SELECT *, regexp_extract(file, '[^/]+$') AS fname FROM {records}
    WHERE expected = 'land' AND source IN ('stripe_customer', 'survey_response', 'form_submission')
)
SELECT 'stripe' AS src, record_id AS rid, person_id, note FROM t WHERE source = 'stripe_customer'
UNION ALL
SELECT 'survey', r.response_id, t.person_id, t.note FROM t
JOIN landed_survey_responses r ON r.source_file = t.fname AND r.position = t.position
WHERE t.source = 'survey_response'
UNION ALL
SELECT 'form', f.submission_id, t.person_id, t.note FROM t
JOIN landed_forms f ON f.source_file = t.fname AND f.position = t.position
WHERE t.source = 'form_submission'
"""

PAIRS_SQL = """
WITH j AS (SELECT person_id, customer_id FROM truth JOIN {map} m ON m.source = truth.src AND m.record_id = truth.rid),
pred AS (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM j GROUP BY customer_id)),
tru AS (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM j GROUP BY person_id)),
agree AS (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM j GROUP BY customer_id, person_id))
SELECT (SELECT * FROM pred), (SELECT * FROM tru), (SELECT * FROM agree), (SELECT count(*) FROM j),
       (SELECT count(*) FROM truth)
"""

# Every true pair (same person) and every predicted pair (same customer) with both records' notes.
ERRORS_SQL = """
CREATE OR REPLACE TABLE rec_{mode} AS
SELECT t.*, m.customer_id FROM truth t JOIN {map} m ON m.source = t.src AND m.record_id = t.rid;
CREATE OR REPLACE TABLE fn_{mode} AS
SELECT a.src AS src_a, b.src AS src_b, a.rid AS rid_a, b.rid AS rid_b, a.note AS note_a, b.note AS note_b
FROM rec_{mode} a JOIN rec_{mode} b ON a.person_id = b.person_id AND (a.src, a.rid) < (b.src, b.rid)
WHERE a.customer_id <> b.customer_id;
CREATE OR REPLACE TABLE fp_{mode} AS
SELECT a.src AS src_a, b.src AS src_b, a.rid AS rid_a, b.rid AS rid_b, a.note AS note_a, b.note AS note_b
FROM rec_{mode} a JOIN rec_{mode} b ON a.customer_id = b.customer_id AND (a.src, a.rid) < (b.src, b.rid)
WHERE a.person_id <> b.person_id;
"""


@dataclass
class Accuracy:
    """One accuracy run: the scoring connection (tables truth, rec_/fn_/fp_<mode>), figures per mode."""

    con: duckdb.DuckDBPyConnection
    gen_dir: Path
    data_dir: Path
    people: int
    events: int
    seed: int
    measures: dict  # stage or mode -> Measure.as_dict()
    found: dict  # mode -> metrics()

    @property
    def lake(self) -> Path:
        return self.data_dir / "lake"


def prepare(events: int, people: int, seed: int, reuse: bool) -> tuple[Path, Path, dict]:
    gen_dir, gen_meta = ensure_generated(
        events, people if people * EVENTS_PER_PERSON != events else None, seed
    )
    data_dir = gen_dir.parent / "identity_truth"
    measures: dict = {"generate": gen_meta}
    if reuse and catalog.path(data_dir / "lake", "identifiers").exists():
        return gen_dir, data_dir, measures
    shutil.rmtree(data_dir, ignore_errors=True)
    for source in ("stripe", "surveys", "forms"):
        link_tree(gen_dir / "inbox" / source, data_dir / "inbox" / source)
    for stage in PREP:
        m = run_measured([sys.executable, str(STAGES_PY), stage, str(data_dir), str(gen_dir)])
        if m.returncode != 0:
            raise SystemExit(f"{stage} failed:\n{m.result.get('error')}")
        measures[stage] = m.as_dict()
    return gen_dir, data_dir, measures


def metrics(con: duckdb.DuckDBPyConnection, map_table: str) -> dict[str, float]:
    pred, truth, agree, matched, total = (
        int(v or 0) for v in con.execute(PAIRS_SQL.format(map=map_table)).fetchone()
    )
    p = agree / pred if pred else 1.0
    r = agree / truth if truth else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "true_pairs": truth, "predicted_pairs": pred, "records": matched, "truth_records": total}  # fmt: skip


def measure_accuracy(people: int, seed: int = 1, events: int | None = None, reuse: bool = False) -> Accuracy:
    """Prepare the lake (or reuse it), resolve in every mode in its own child, score each map."""
    events = events or people * EVENTS_PER_PERSON
    gen_dir, data_dir, measures = prepare(events, people, seed, reuse)
    env = dict(os.environ, PYTHONHASHSEED="0")
    for mode in MODES:
        m = run_measured(
            [sys.executable, str(STAGES_PY), f"identity_{mode}", str(data_dir), str(gen_dir)], env
        )
        if m.returncode != 0:
            raise SystemExit(f"{mode} resolution failed:\n{m.result.get('error')}")
        measures[mode] = m.as_dict()
    lake = data_dir / "lake"
    # the pipeline's lake as views; the attribute keys need the uds_* functions
    con = connection.connect(lake, default_region="US")
    con.execute(TRUTH_SQL.format(records=files_relation([gen_dir / "ground_truth" / "records.parquet"])))
    found = {}
    for mode, mode_lake in MODES.items():
        lake_views.register(con, data_dir / mode_lake, ["identity_map"])  # this mode's map
        found[mode] = metrics(con, "identity_map")
        con.execute(ERRORS_SQL.format(mode=mode, map="identity_map"))
    lake_views.register(con, lake, ["identity_map"])  # back to the pipeline's (deterministic) map
    return Accuracy(con, gen_dir, data_dir, people, events, seed, measures, found)


def identifier_ceiling(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The most any identifier-only resolver can link: true pairs joined by usable shared identifiers.

    An oracle graph whose identifier nodes are per true person (so strangers never merge and no
    size guardrail is needed), over every identifier the resolver extracted except the values the
    guardrails block (junk emails, placeholder phones). Its recall bounds deterministic recall.
    """
    blocked = blocked_rule_sql(GuardrailConfig())
    con.execute(
        f"""
        CREATE OR REPLACE TABLE oracle_rec AS
        SELECT row_number() OVER () - 1 AS rec_ix, t.src, t.rid, t.person_id FROM truth t
        JOIN rec_deterministic d USING (src, rid);
        CREATE OR REPLACE TABLE oracle_edges AS
        WITH usable AS (
            SELECT r.rec_ix, r.person_id, i.id_type, i.id_value
            FROM identifiers i
            JOIN oracle_rec r ON r.src = i.source AND r.rid = i.record_id
            WHERE ({blocked}) IS NULL
        )
        SELECT rec_ix, dense_rank() OVER (ORDER BY person_id, id_type, id_value) - 1 AS val_ix FROM usable
        """
    )
    edges = query_arrow(con, "SELECT rec_ix, val_ix FROM oracle_edges")
    # fetchall: a half-read result would block registering the labels below
    n_rec = con.execute("SELECT count(*) FROM oracle_rec").fetchall()[0][0]
    n_val = con.execute("SELECT coalesce(max(val_ix) + 1, 0) FROM oracle_edges").fetchall()[0][0]
    labels = component_labels(
        edges.column("rec_ix").to_numpy(), edges.column("val_ix").to_numpy(), n_rec, n_val
    )
    con.register("oracle_labels", pa.table({"rec_ix": np.arange(n_rec), "label": labels}))
    linkable, true_pairs = con.execute(
        """
        WITH l AS (SELECT r.person_id, o.label FROM oracle_rec r JOIN oracle_labels o USING (rec_ix))
        SELECT (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM l GROUP BY label)),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM l GROUP BY person_id))
        """
    ).fetchall()[0]
    con.unregister("oracle_labels")
    return {"linkable_pairs": int(linkable or 0), "true_pairs": int(true_pairs or 0)}


def ceiling_line(acc: Accuracy) -> str:
    """The identifier ceiling next to what deterministic matching reached."""
    ceiling = identifier_ceiling(acc.con)
    bound = ceiling["linkable_pairs"] / ceiling["true_pairs"] if ceiling["true_pairs"] else 1.0
    det = acc.found["deterministic"]
    share = (
        det["recall"] * det["true_pairs"] / ceiling["linkable_pairs"] if ceiling["linkable_pairs"] else 1.0
    )
    return (f"identifier ceiling: {ceiling['linkable_pairs']:,} of {ceiling['true_pairs']:,} true pairs "
            f"share a chain of usable identifiers (recall bound {bound:.4f}); deterministic links "
            f"{share:.4f} of them")  # fmt: skip


def accuracy_rows(acc: Accuracy) -> list[list[str]]:
    """Per mode: P / R / F1, pair counts and the mode's resolution wall s, CPU s, peak RSS."""
    rows = []
    for mode in MODES:
        f, m = acc.found[mode], acc.measures[mode]
        rows.append([mode, f"{f['precision']:.4f}", f"{f['recall']:.4f}", f"{f['f1']:.4f}",
                     f"{f['predicted_pairs']:,}", f"{f['true_pairs']:,}", f"{m['seconds']:.1f}",
                     f"{m['cpu_seconds']:.1f}", f"{m['peak_rss_mib']:.0f}"])  # fmt: skip
    return rows


ACCURACY_HEADERS = ["matching", "precision", "recall", "F1", "predicted pairs", "true pairs", "wall s",
                    "CPU s", "peak RSS MiB"]  # fmt: skip


def prep_table(acc: Accuracy) -> str:
    prep = [[k, f"{v['seconds']:.1f}", f"{v['cpu_seconds']:.1f}", f"{v['peak_rss_mib']:.0f}"]
            for k, v in acc.measures.items() if k not in MODES]  # fmt: skip
    return fmt_table(["stage", "wall s", "CPU s", "peak RSS MiB"], prep)
