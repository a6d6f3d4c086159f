"""Side by side on the linkage generator's records: our identity stage, Splink alone, and their scores.

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
import os
import shutil
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CACHE_DIR, fmt_table, link_tree, run_measured  # noqa: E402

FIELDS = ["first_name", "last_name", "date_of_birth", "address_line1", "city", "postcode"]
CLUSTER_THRESHOLD = 0.99
SEED = 42
STAGES_PY = Path(__file__).resolve().parent / "_stages.py"
# Ours, as the pipeline runs it: land the form CSV, build identity inputs, resolve (probabilistic).
OUR_STAGES = ("land_forms", "identity_inputs", "identity_resolution_probabilistic")
MAX_TIME_RATIO = 1.5  # the target: our F1 >= Splink's at no more than 1.5x its time
HEADERS = ["level", "resolver", "records", "P", "R", "F1", "cluster P", "cluster R", "cluster F1",
           "resolve s", "child wall s", "peak RSS MiB", "result"]  # fmt: skip


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
    joined = (
        truth[["record_id", "person_id"]]
        .astype(str)
        .merge(predicted[["record_id", "cluster_id"]].astype(str), on="record_id", how="left")
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


def generated(people: int, level: str, seed: int) -> Path:
    """The generator's form CSV and truth for (people, level, seed), cached under benchmarks/.cache/."""
    from uds_pipelines.lib.generator.linkage import write_linkage_forms

    gen_dir = CACHE_DIR / "linkage" / f"{level}-{people}-{seed}"
    if not (gen_dir / "ground_truth" / "linkage_truth.parquet").exists():
        shutil.rmtree(gen_dir, ignore_errors=True)
        write_linkage_forms(gen_dir, people, level, seed)
    return gen_dir


def read_records(gen_dir: Path) -> pd.DataFrame:
    """The generated form CSV as records (record_id = submission_id), missing values as None."""
    frame = pd.read_csv(next((gen_dir / "inbox" / "forms").glob("*.csv")), dtype=str, keep_default_na=False)
    frame = frame.rename(columns={"submission_id": "record_id"})
    return frame.replace("", None)


def run_ours(gen_dir: Path, work_dir: Path, repeats: int = 1) -> dict:
    """Our pipeline's stages, each in its own child; the scores of the identity map it wrote.

    The resolution runs `repeats` times (a re-run keeps every id) and the fastest counts: on a
    shared machine the slower runs measure the neighbours."""
    shutil.rmtree(work_dir, ignore_errors=True)
    link_tree(gen_dir / "inbox", work_dir / "inbox")
    env = dict(os.environ, PYTHONHASHSEED="0")
    measures = {}
    for stage in (*OUR_STAGES, *[OUR_STAGES[-1]] * (repeats - 1)):
        m = run_measured([sys.executable, str(STAGES_PY), stage, str(work_dir), str(gen_dir)], env)
        if m.returncode != 0:
            raise SystemExit(f"{stage} failed:\n{m.result.get('error')}")
        if stage not in measures or m.result["resolve_seconds"] < measures[stage].result["resolve_seconds"]:
            measures[stage] = m
    resolved = measures["identity_resolution_probabilistic"]
    id_map = pd.read_parquet(work_dir / "lake" / "identity" / "identity_map.parquet")
    truth = pd.read_parquet(gen_dir / "ground_truth" / "linkage_truth.parquet")
    scores = pair_and_cluster_scores(id_map.rename(columns={"customer_id": "cluster_id"}), truth)
    stats = resolved.result
    return scores | {
        "seconds": stats["resolve_seconds"], "wall_seconds": resolved.seconds, "peak_rss_mib": resolved.peak_rss_mib,
        "prep_seconds": sum(measures[s].seconds for s in OUR_STAGES[:-1]),
        "threshold": stats.get("probabilistic_threshold"), "model": stats.get("probabilistic_model"),
        "review_pairs": stats.get("probabilistic_review_pairs"),
    }  # fmt: skip


def run_splink(gen_dir: Path, work_dir: Path, repeats: int = 1) -> dict:
    """Splink alone on the same records, in its own child (the fastest of `repeats`); its scores."""
    work_dir.mkdir(parents=True, exist_ok=True)
    m = None
    for _ in range(repeats):
        run = run_measured(
            [sys.executable, __file__, str(gen_dir), str(work_dir / "splink_clusters.parquet")]
        )
        if run.returncode != 0:
            raise SystemExit(f"Splink alone failed:\n{run.result.get('error')}")
        m = run if m is None or run.result["seconds"] < m.result["seconds"] else m
    truth = pd.read_parquet(gen_dir / "ground_truth" / "linkage_truth.parquet")
    scores = pair_and_cluster_scores(pd.read_parquet(work_dir / "splink_clusters.parquet"), truth)
    return scores | {
        "seconds": m.result["seconds"],
        "wall_seconds": m.seconds,
        "peak_rss_mib": m.peak_rss_mib,
    }


def splink_child(gen_dir: Path, out: Path) -> None:
    from _common import emit_result

    clusters, seconds = splink_alone(read_records(gen_dir))
    clusters.to_parquet(out)
    emit_result({"seconds": round(seconds, 2), "records": len(clusters)})


def _row(level: str, name: str, r: dict, verdict: str) -> list[str]:
    return [level, name, f"{r['records']:,}", *(f"{r[k]:.4f}" for k in ("precision", "recall", "f1",
            "cluster_precision", "cluster_recall", "cluster_f1")), f"{r['seconds']:.1f}",
            f"{r['wall_seconds']:.1f}", f"{r['peak_rss_mib']:,.0f}", verdict]  # fmt: skip


def linkage_section(
    people: int, levels: list[str], seed: int, speed_people: int, summary: list, repeats: int = 2
) -> None:
    """Print the side-by-side table per corruption level, then our resolution of ~1M records."""
    work = CACHE_DIR / "linkage" / "work"
    print(
        f"\n## Issue 16: side by side on the linkage generator ({people:,} people per level, seed {seed})\n"
    )
    rows = []
    for level in levels:
        gen_dir = generated(people, level, seed)
        ours, alone = run_ours(gen_dir, work / "ours", repeats), run_splink(gen_dir, work / "splink", repeats)
        ok = ours["f1"] >= alone["f1"] and ours["seconds"] <= MAX_TIME_RATIO * alone["seconds"]
        verdict = "PASS" if ok else "MISS"
        rows += [
            _row(level, "ours (UDS_MATCHING=probabilistic)", ours, verdict),
            _row(level, "Splink alone", alone, ""),
        ]
        summary.append([f"{level}: our F1 >= Splink's at <= {MAX_TIME_RATIO}x its time",
                        f"F1 {ours['f1']:.4f} vs {alone['f1']:.4f}, {ours['seconds']:.1f} s vs {alone['seconds']:.1f} s",
                        verdict])  # fmt: skip
        print(f"{level}: our threshold p={ours['threshold']} ({ours['model']}), {ours['review_pairs']:,} "
              f"pairs in match_review; preparation (land + identity inputs) {ours['prep_seconds']:.1f} s")  # fmt: skip
    print("\n" + fmt_table(HEADERS, rows))
    print("(P/R/F1: pairwise same-person decisions; cluster P/R: share of predicted / true clusters that are "
          "exactly one person's records. resolve s: ours = the identity stage's resolve (read lake, Splink, "
          "guardrails, stable ids, write tables), Splink alone = training + predict + clustering on the records "
          f"in memory, imports excluded on both sides; the fastest of {repeats} runs each; child wall s adds Python "
          "start-up and imports)")  # fmt: skip
    if speed_people:
        gen_dir = generated(speed_people, "medium", seed)
        ours = run_ours(gen_dir, work / "speed")
        print(
            f"\n### Speed: our resolution of {ours['records']:,} records ({speed_people:,} people, medium)\n"
        )
        print(fmt_table(HEADERS, [_row("medium", "ours", ours, "-")]))
        summary.append([f"our resolution of {ours['records']:,} records (no target)",
                        f"{ours['seconds']:.1f} s, {ours['peak_rss_mib']:,.0f} MiB peak RSS, F1 {ours['f1']:.4f}", "-"])  # fmt: skip


if __name__ == "__main__":
    splink_child(Path(sys.argv[1]), Path(sys.argv[2]))
