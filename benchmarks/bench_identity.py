"""Identity resolution against the issue's targets: accuracy, speed at 1M people, profile building.

`python benchmarks/bench_identity.py [--people 100000] [--speed-people 1000000] [--reuse]
[--skip-accuracy] [--skip-speed] [--skip-profiles] [--second-run] [--memory-limit 2GB]
[--linkage-people 10000] [--linkage-levels low,medium,high] [--linkage-speed-people 316000]
[--linkage-repeats 2] [--skip-linkage]`

0. Issue 16, side by side (`_identity_linkage.py`): on the linkage generator's damaged records at
   each corruption level, our pipeline (forms landing, identity inputs, the identity stage with
   UDS_MATCHING=probabilistic) and Splink alone with its documented templates: pairwise and cluster
   precision / recall / F1 and time, PASS when our F1 >= Splink's at <= 1.5x its time; then our
   resolution of ~1M records (time, peak RSS).

1. Accuracy on the project generator's ground truth at --people (100k people = 1M Stripe events,
   generated once into benchmarks/.cache/): pairwise precision / recall / F1 of same-person
   decisions, deterministic and with probabilistic matching, plus the identifier ceiling.
2. Speed: deterministic resolution of --speed-people people on synthetic identifiers (SQL-generated
   in `_identity_speed.py`, ~5.1 identifier rows per person; the project generator would need 10M
   Stripe events for 1M people). Wall s, CPU s and peak RSS of the resolving process.
3. Profile building (consent ledger + effective consent + customer profiles with RFM) on the
   accuracy data set's lake and its deterministic identity map.
Every step runs in its own subprocess, so each peak RSS is that step's own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fmt_table, run_measured  # noqa: E402
from _identity_accuracy import (  # noqa: E402
    ACCURACY_HEADERS,
    STAGES_PY,
    accuracy_rows,
    ceiling_line,
    measure_accuracy,
    prep_table,
)
from _identity_linkage import linkage_section  # noqa: E402
from _identity_speed import measure_speed  # noqa: E402

DET_PRECISION, DET_RECALL, PROB_PRECISION = 0.999, 0.99, 0.995
SPEED_SECONDS, SPEED_RSS_MIB = 60.0, 2048.0
PROB_LABELS = {
    "probabilistic": "probabilistic, fixed weights",
    "probabilistic_trained": "probabilistic, trained (UDS_MATCHING=probabilistic)",
}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def machine() -> str:
    mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return f"{os.cpu_count()} CPUs, {int(mem.split()[1]) / 1024**2:.1f} GiB RAM"


def accuracy_section(args: argparse.Namespace, summary: list[list[str]]):
    acc = measure_accuracy(args.people, args.seed, None, args.reuse)
    det = acc.found["deterministic"]
    any_f = det
    print(f"\n## 1. Accuracy: project generator's ground truth, {acc.people:,} people (seed {acc.seed}, "
          f"{acc.events:,} Stripe events), {any_f['records']:,} person records "
          f"(of {any_f['truth_records']:,} landed in truth)\n")  # fmt: skip
    rows = []
    for row in accuracy_rows(acc):
        mode = row[0]
        f = acc.found[mode]
        if mode == "deterministic":
            p_ok, r_ok = f["precision"] >= DET_PRECISION, f["recall"] >= DET_RECALL
            targets = [f">= {DET_PRECISION} {verdict(p_ok)}", f">= {DET_RECALL} {verdict(r_ok)}"]
            summary.append(
                [f"deterministic precision >= {DET_PRECISION}", f"{f['precision']:.4f}", verdict(p_ok)]
            )
            summary.append([f"deterministic recall >= {DET_RECALL}", f"{f['recall']:.4f}", verdict(r_ok)])
        else:
            p_ok, r_ok = f["precision"] >= PROB_PRECISION, f["recall"] > det["recall"]
            targets = [f">= {PROB_PRECISION} {verdict(p_ok)}", f"> det. {verdict(r_ok)}"]
            label = PROB_LABELS[mode]
            summary.append(
                [f"{label}: precision >= {PROB_PRECISION}", f"{f['precision']:.4f}", verdict(p_ok)]
            )
            summary.append([f"{label}: recall > deterministic", f"{f['recall']:.4f} vs {det['recall']:.4f}",
                            verdict(r_ok)])  # fmt: skip
        rows.append(row + targets)
    print(fmt_table(ACCURACY_HEADERS + ["precision target", "recall target"], rows))
    print("\n" + ceiling_line(acc))
    print("(probabilistic = Splink with fixed m/u; probabilistic_trained = Splink re-estimating u and m,"
          " what the pipeline runs with UDS_MATCHING=probabilistic; wall/CPU/RSS = that mode's resolving"
          " process, on the identifiers already built)")  # fmt: skip
    print(
        "\nPreparation of the accuracy lake (generate from cache, land, stage, identity inputs):\n"
        + prep_table(acc)
    )
    acc.con.close()
    return acc


def speed_section(args: argparse.Namespace, summary: list[list[str]]) -> None:
    sp = measure_speed(args.speed_people, args.memory_limit, args.second_run)
    print(f"\n## 2. Speed: deterministic resolution of {sp['people']:,} synthetic people (SQL generator in "
          f"benchmarks/_identity_speed.py, not the project generator; for time and memory only), "
          f"DuckDB memory_limit {sp['memory_limit']}\n")  # fmt: skip
    rows = []
    for name in ("run1", "run2"):
        if name not in sp:
            continue
        m = sp[name]
        ok_t, ok_m = m["seconds"] <= SPEED_SECONDS, m["peak_rss_mib"] <= SPEED_RSS_MIB
        label = "first run" if name == "run1" else "re-run, 1% of records erased"
        ids = f"{sp['identifiers']:,}" if name == "run1" else "-"
        rows.append([label, f"{sp['people']:,}", f"{m['result']['records']:,}", ids,
                     f"{m['seconds']:.1f}", f"{m['cpu_seconds']:.1f}", f"{m['result']['resolve_seconds']:.1f}",
                     f"{m['peak_rss_mib']:,.0f}", f"{m['result']['customers']:,}",
                     f"<= {SPEED_SECONDS:.0f} s {verdict(ok_t)}", f"<= 2 GiB {verdict(ok_m)}"])  # fmt: skip
        if name == "run1":
            summary.append([f"resolve {sp['people']:,} people ({sp['identifiers']:,} identifiers) <= 60 s wall",
                            f"{m['seconds']:.1f} s ({m['cpu_seconds']:.1f} CPU s)", verdict(ok_t)])  # fmt: skip
            summary.append(["  ... peak RSS <= 2 GiB", f"{m['peak_rss_mib']:,.0f} MiB", verdict(ok_m)])
    print(fmt_table(["run", "people", "records", "identifier rows", "wall s", "CPU s", "inner s",
                     "peak RSS MiB", "customers", "time target", "memory target"], rows))  # fmt: skip
    s = sp["synth"]
    print(
        f"(wall s and CPU s: the whole child process, Python start-up and imports included; inner s: "
        f"resolve_identities + write_outputs. Synthesis, cached: {s['seconds']:.1f} s wall)"
    )


def profiles_section(args: argparse.Namespace, acc, summary: list[list[str]]) -> None:
    env = dict(os.environ, PYTHONHASHSEED="0")
    m = run_measured([sys.executable, str(STAGES_PY), "profiles", str(acc.data_dir), str(acc.gen_dir)], env)
    print(
        f"\n## 3. Profile building on the accuracy data set ({acc.people:,} people, deterministic identity map)\n"
    )
    if m.returncode != 0:
        print("FAILED:\n" + m.result.get("error", ""))
        summary.append(["profile building", "FAILED", "-"])
        return
    r = m.result
    print(fmt_table(["stage", "profiles", "consent statements", "wall s", "CPU s", "consent s", "profiles s",
                     "peak RSS MiB"],
                    [["consent + profiles", f"{r['rows']:,}", f"{r['consent_statements']:,}", f"{m.seconds:.1f}",
                      f"{m.cpu_seconds:.1f}", f"{r['consent_seconds']:.1f}", f"{r['profiles_seconds']:.1f}",
                      f"{m.peak_rss_mib:,.0f}"]]))  # fmt: skip
    summary.append([f"profile building, {r['rows']:,} profiles (no target)",
                    f"{m.seconds:.1f} s ({m.cpu_seconds:.1f} CPU s), {m.peak_rss_mib:,.0f} MiB", "-"])  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=100_000, help="accuracy data set (generator people)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--speed-people", type=int, default=1_000_000, help="synthetic people for the speed run"
    )
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB limit of the speed run (pipeline: 2GB)")
    parser.add_argument(
        "--second-run", action="store_true", help="also time a re-run over the first run's ids"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the landed accuracy lake from the last run"
    )
    parser.add_argument("--linkage-people", type=int, default=10_000, help="people per corruption level")
    parser.add_argument("--linkage-levels", default="low,medium,high")
    parser.add_argument(
        "--linkage-speed-people", type=int, default=316_000, help="~1M records for our speed run; 0: skip"
    )
    parser.add_argument("--linkage-repeats", type=int, default=2, help="runs per resolver; the fastest counts")
    parser.add_argument("--skip-linkage", action="store_true", help="skip the issue 16 side-by-side")
    parser.add_argument("--skip-accuracy", action="store_true", help="also skips profile building")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-profiles", action="store_true")
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    print(f"# Identity benchmark, {started.isoformat(timespec='seconds')}, {machine()}")
    print(f"load at start: `{uptime()}`")
    summary: list[list[str]] = []
    if not args.skip_linkage:
        levels = args.linkage_levels.split(",")
        linkage_section(
            args.linkage_people, levels, args.seed, args.linkage_speed_people, summary, args.linkage_repeats
        )
    acc = None if args.skip_accuracy else accuracy_section(args, summary)
    if not args.skip_speed:
        speed_section(args, summary)
    if acc is not None and not args.skip_profiles:
        profiles_section(args, acc, summary)
    print(f"\nload at end: `{uptime()}`")
    print("\n## Summary\n")
    print(fmt_table(["target", "measured", "result"], summary))


if __name__ == "__main__":
    main()
