"""The incremental row of `run_all.py`: a small delivery on top of a full lake, run through every
stage again, with each stage's share of its full run; and the targets every row is judged by."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from _common import CACHE_DIR

# What arrives between two runs: about 1,000 Stripe events and 100 form submissions.
INCREMENT_STRIPE_EVENTS = 1_000
INCREMENT_PEOPLE = 180  # about 55% of them fill in a form
INCREMENT_SEED = 7
INCREMENTAL_STAGES = (
    "land_stripe",
    "land_files",
    "staging",
    "identity_inputs",
    "identity_resolution",
    "profiles",
    "segments_audiences",
)

# Targets of the durable-state issue: stage wall time / bare wall time, peak RSS, the whole graph
# against the sum of bare passes, and an incremental run's share of the full run.
LAND_RATIO, LATER_RATIO, GRAPH_RATIO = 2.0, 3.0, 5.0
PEAK_RSS_MIB = 2048
INCREMENTAL_SHARE, INCREMENTAL_SECONDS = 0.05, 10.0


def add_increment(size: int, data_dir: Path) -> dict[str, int]:
    """Put the increment's Stripe and form files into the lake's inbox (generated once per size,
    with another seed than the lake's people); returns how many of each."""
    from uds_pipelines.lib.generator.core import generate

    inc = CACHE_DIR / str(size) / "increment"
    if not (inc / "inbox").is_dir():
        shutil.rmtree(inc, ignore_errors=True)
        generate(
            inc,
            people=INCREMENT_PEOPLE,
            seed=INCREMENT_SEED,
            stripe_events=INCREMENT_STRIPE_EVENTS,
            workers=1,
        )
    counts = {"stripe_files": 0, "form_files": 0}
    for source, key in (("stripe", "stripe_files"), ("forms", "form_files")):
        target = data_dir / "inbox" / source
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted((inc / "inbox" / source).rglob("*")):
            if path.is_file():
                dest = target / f"increment-{path.name}"
                if not dest.exists():
                    os.link(path, dest)
                counts[key] += 1
    return counts


def stage_verdict(stage: str, ratio: float | None, peak_rss_mib: float) -> str:
    """PASS when the stage is within its ratio to bare and its memory bound, else MISS (why)."""
    if ratio is None:
        return "-"
    limit = LAND_RATIO if stage.startswith("land") else LATER_RATIO
    misses = []
    if ratio > limit:
        misses.append(f"ratio > {limit}")
    if peak_rss_mib > PEAK_RSS_MIB:
        misses.append(f"RSS > {PEAK_RSS_MIB} MiB")
    return "MISS (" + ", ".join(misses) + ")" if misses else "PASS"


def graph_verdict(stage_seconds: float, bare_seconds: float) -> str:
    ratio = stage_seconds / bare_seconds if bare_seconds else float("inf")
    return (
        f"{ratio:.2f}x the sum of bare passes: "
        + ("PASS" if ratio <= GRAPH_RATIO else "MISS")
        + f" (target <= {GRAPH_RATIO}x)"
    )


def incremental_verdict(full_seconds: float, incremental_seconds: float) -> tuple[str, str]:
    """(share of the full run, PASS/MISS against 5% or 10 s)."""
    share = incremental_seconds / full_seconds if full_seconds else float("inf")
    ok = share <= INCREMENTAL_SHARE or incremental_seconds < INCREMENTAL_SECONDS
    return f"{share:.1%}", "PASS" if ok else "MISS"
