"""Every pipeline stage at several sizes of Stripe events, each against a bare DuckDB pass: one table.

`python benchmarks/run_all.py [--sizes 100000,1000000,10000000] [--stages land_stripe,staging,...]`
The `incremental` stage then adds about 1,000 Stripe events and 100 form submissions to the lake
and runs every stage again: each stage's share of its full run (`_incremental.py` has the targets).
Generated data is cached in benchmarks/.cache/<size>/gen (reused); each stage runs in its own
subprocess so its peak RSS is its own. Stages are run before their bare pass, so the bare pass gets
the warmer page cache (the ratio errs against the pipeline).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CACHE_DIR, Measure, ensure_generated, fmt_table, link_tree, run_measured  # noqa: E402
from _incremental import (  # noqa: E402
    INCREMENTAL_STAGES,
    add_increment,
    graph_verdict,
    incremental_verdict,
    stage_verdict,
)
from _stages import STAGES  # noqa: E402

STAGE_LABELS = {
    "generate": "generate",
    "land_stripe": "land stripe",
    "land_files": "land surveys+forms+privacy",
    "staging": "staging",
    "identity_inputs": "identity inputs",
    "identity_resolution": "identity resolution",
    "profiles": "consent + profiles",
    "segments_audiences": "segments+audiences",
    "privacy_erase": "privacy requests (all pending)",
    "incremental": "incremental run (every stage again)",
}
ALL_STAGES = list(STAGE_LABELS)
STAGES_PY = Path(__file__).resolve().parent / "_stages.py"


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def run_size(size: int, stages: list[str], log, timeout: float | None = None) -> dict[str, dict]:
    """Run the selected stages at one size; a fresh lake when landing is selected, else the last one."""
    gen_dir, gen_meta = ensure_generated(size)
    data_dir = CACHE_DIR / str(size) / "data"
    results: dict[str, dict] = {}
    if "generate" in stages:
        results["generate"] = {"stage": gen_meta, "bare": None}
        log(f"[{size}] generate: {gen_meta['seconds']} s (cached figures from when it was generated)")
    if "land_stripe" in stages:
        shutil.rmtree(data_dir, ignore_errors=True)
        link_tree(gen_dir / "inbox", data_dir / "inbox")
    env = dict(os.environ, PYTHONHASHSEED="0")
    for stage in [s for s in ALL_STAGES if s in stages and s in STAGES]:
        args = [sys.executable, str(STAGES_PY), stage, str(data_dir), str(gen_dir)]
        measured = run_measured(args, env, timeout)
        log(f"[{size}] {stage}: {json.dumps(measured.as_dict(), default=str)}")
        if measured.returncode != 0:
            results[stage] = {"stage": measured.as_dict(), "bare": None}
            log(f"[{size}] {stage} FAILED; later stages skipped")
            break
        bare = run_measured(args + ["bare"], env)
        log(f"[{size}] {stage} bare: {json.dumps(bare.as_dict(), default=str)}")
        results[stage] = {"stage": measured.as_dict(), "bare": bare.as_dict()}
    if "incremental" in stages:
        added = add_increment(size, data_dir)
        log(f"[{size}] increment added: {added}")
        runs = {}
        for stage in INCREMENTAL_STAGES:
            measured = run_measured([sys.executable, str(STAGES_PY), stage, str(data_dir), str(gen_dir)], env, timeout)
            log(f"[{size}] incremental {stage}: {json.dumps(measured.as_dict(), default=str)}")
            runs[stage] = measured.as_dict()
        results["incremental"] = {"stage": {"added": added, "runs": runs}, "bare": None}
    return results


def _row(size: int, stage: str, r: dict) -> list[object]:
    fields = ("seconds", "cpu_seconds", "peak_rss_mib", "returncode", "result")
    m = Measure(**{k: r["stage"][k] for k in fields}) if "returncode" in r["stage"] else None
    if m is None:
        return [size, STAGE_LABELS[stage], "-", "-", "-", "-", "-", "-", "-", "-", "-"]
    bare = r.get("bare")
    ratio = f"{m.seconds / bare['seconds']:.2f}" if bare and bare["seconds"] > 0 else "-"
    cpu_ratio = f"{m.cpu_seconds / bare['cpu_seconds']:.2f}" if bare and bare["cpu_seconds"] > 0 else "-"
    status = "" if m.returncode == 0 else " (FAILED)"
    return [
        f"{size:,}",
        STAGE_LABELS[stage] + status,
        f"{m.seconds:,.1f}",
        f"{m.cpu_seconds:,.1f}",
        f"{size / m.seconds:,.0f}" if m.seconds else "-",
        f"{m.peak_rss_mib:,.0f}",
        f"{bare['seconds']:,.1f}" if bare else "-",
        f"{bare['cpu_seconds']:,.1f}" if bare else "-",
        ratio,
        cpu_ratio,
        stage_verdict(stage, m.seconds / bare["seconds"] if bare and bare["seconds"] > 0 else None, m.peak_rss_mib),
    ]


def report(all_results: dict[int, dict[str, dict]]) -> str:
    headers = ["events", "stage", "wall s", "CPU s", "events/s", "peak RSS MiB", "bare wall s", "bare CPU s",
               "ratio wall", "ratio CPU", "target"]  # fmt: skip
    rows = [
        _row(size, stage, r) for size, res in all_results.items() for stage, r in res.items() if stage != "incremental"
    ]
    text = fmt_table(headers, rows) + _graph_and_incremental(all_results)
    sizes = sorted(all_results)
    growth_rows = []
    for small, big in zip(sizes, sizes[1:], strict=False):
        for stage in ALL_STAGES[:-1]:  # the incremental run has its own table
            a, b = all_results[small].get(stage), all_results[big].get(stage)
            if not a or not b or a["stage"].get("returncode") or b["stage"].get("returncode"):
                continue
            wall = b["stage"]["seconds"] / max(a["stage"]["seconds"], 1e-9)
            cpu = b["stage"]["cpu_seconds"] / max(a["stage"]["cpu_seconds"], 1e-9)
            rss = b["stage"]["peak_rss_mib"] / max(a["stage"]["peak_rss_mib"], 1e-9)
            growth_rows.append(
                [
                    f"{small:,} -> {big:,}",
                    STAGE_LABELS[stage],
                    f"{big / small:.0f}x",
                    f"{wall:.1f}x",
                    f"{cpu:.1f}x",
                    f"{rss:.1f}x",
                ]  # fmt: skip
            )
    if growth_rows:
        text += "\n\nGrowth (linear = the size factor):\n\n" + fmt_table(
            ["sizes", "stage", "size", "wall", "CPU", "peak RSS"], growth_rows
        )
    return text


def _graph_and_incremental(all_results: dict[int, dict[str, dict]]) -> str:
    """The whole graph against the sum of bare passes, and the incremental run's share per stage."""
    text = ""
    for size, res in all_results.items():
        timed = [r for s, r in res.items() if s not in ("generate", "incremental") and r.get("bare")]
        if timed:
            total = sum(r["stage"]["seconds"] for r in timed)
            bare = sum(r["bare"]["seconds"] for r in timed)
            text += f"\n\n{size:,} events, whole graph: {total:,.1f} s, " + graph_verdict(total, bare)
        inc = res.get("incremental")
        if not inc:
            continue
        rows = []
        for stage, run in inc["stage"]["runs"].items():
            full = res.get(stage, {}).get("stage", {}).get("seconds")
            share, verdict = incremental_verdict(full, run["seconds"]) if full else ("-", "-")
            rows.append([STAGE_LABELS[stage], f"{full:,.1f}" if full else "-", f"{run['seconds']:,.1f}",
                         f"{run['peak_rss_mib']:,.0f}", share, verdict])  # fmt: skip
        text += (
            f"\n\nIncremental run at {size:,} events (added {inc['stage']['added']}; target <= 5% of the full "
            "run or under 10 s):\n\n"
            + fmt_table(["stage", "full wall s", "incremental wall s", "peak RSS MiB", "share", "target"], rows)
        )
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--stages", default=",".join(ALL_STAGES), help=f"any of {','.join(ALL_STAGES)}")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per stage before it is killed")
    parser.add_argument("--json", type=Path, default=CACHE_DIR / "run_all.json", help="raw figures (merged)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    stages = [s for s in args.stages.split(",") if s]
    unknown = set(stages) - set(ALL_STAGES)
    if unknown:
        parser.error(f"unknown stages {sorted(unknown)}")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    saved = json.loads(args.json.read_text()) if args.json.exists() else {}

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = datetime.now(UTC)
    start_load = _uptime()
    log(f"start {started.isoformat(timespec='seconds')}: {start_load}")
    for size in sizes:
        began = time.perf_counter()
        results = run_size(size, stages, log, args.timeout)
        saved.setdefault(str(size), {}).update(results)
        if set(stages) - {"generate"}:
            saved.setdefault("_runs", {})[str(size)] = {
                "cpus": os.cpu_count(), "started": started.isoformat(timespec="seconds"),
                "load_start": start_load, "load_end": _uptime(), "stages": stages,
            }  # fmt: skip
        args.json.write_text(json.dumps(saved, indent=1, default=str))
        log(f"[{size}] done in {time.perf_counter() - began:.0f} s; {_uptime()}")
    log(f"end: {_uptime()}")
    shown = {int(k): v for k, v in saved.items() if not k.startswith("_") and int(k) in sizes}
    print(report({k: {s: v[s] for s in ALL_STAGES if s in v} for k, v in sorted(shown.items())}))
    for size, run in sorted(saved.get("_runs", {}).items(), key=lambda kv: int(kv[0])):
        print(
            f"\n{int(size):,} events, run from {run['started']}: start `{run['load_start']}`; end `{run['load_end']}`"
        )


if __name__ == "__main__":
    main()
