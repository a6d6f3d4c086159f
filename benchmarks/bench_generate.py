"""Benchmark the synthetic data generator: `python benchmarks/bench_generate.py --events 1000000`."""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
from pathlib import Path

from uds_pipelines.lib.generator import generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="unique Stripe events to generate")
    parser.add_argument("--people", type=int, default=None, help="people (default: events / 50)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--out", type=Path, default=None, help="keep output here instead of a temp dir")
    args = parser.parse_args(argv)
    people = args.people or max(100, args.events // 50)
    out = args.out or Path(tempfile.mkdtemp(prefix="uds_bench_"))
    try:
        summary = generate(
            out, people=people, seed=args.seed, stripe_events=args.events, workers=args.workers
        )
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(
            f"people={people} stripe_events={summary.stripe_unique_events} lines={summary.counts.get('stripe_event', 0)}"
        )
        print(f"files={summary.files_written} bytes={size}")
        cpu = sum(
            resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        )
        # CPU seconds show the cost when the machine is shared and wall time is inflated.
        print(
            f"seconds={summary.seconds:.2f} events_per_second={summary.stripe_unique_events / summary.seconds:,.0f}"
        )
        print(f"cpu_seconds={cpu:.2f}")
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
