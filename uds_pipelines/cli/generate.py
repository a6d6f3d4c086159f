"""`uds-generate`: write synthetic inbox files for every source plus ground truth to check the pipeline against."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from uds_pipelines.lib.generator import generate
from uds_pipelines.lib.generator.core import DEFAULT_END, DEFAULT_START


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uds-generate",
        description="Generate synthetic Stripe events, survey exports, form submissions and privacy requests "
        "under OUT/inbox/, with ground truth under OUT/ground_truth/. Same seed, same bytes.",
    )
    parser.add_argument("--people", type=int, required=True, help="number of true people")
    parser.add_argument(
        "--seed", type=int, required=True, help="random seed (output is deterministic per seed)"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="output directory (e.g. data or data/samples)"
    )
    parser.add_argument(
        "--stripe-events", type=int, default=None, help="unique Stripe events (default: 8 per person)"
    )
    parser.add_argument("--start", default=DEFAULT_START.isoformat(), help="first timestamp, ISO date (UTC)")
    parser.add_argument("--end", default=DEFAULT_END.isoformat(), help="last timestamp, ISO date (UTC)")
    parser.add_argument(
        "--workers", type=int, default=None, help="processes for Stripe chunks (default: all cores)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.people < 1:
        print("uds-generate: --people must be at least 1", file=sys.stderr)
        return 2
    try:
        summary = generate(
            args.out,
            args.people,
            args.seed,
            stripe_events=args.stripe_events,
            start=args.start,
            end=args.end,
            workers=args.workers,
        )
    except ValueError as exc:
        print(f"uds-generate: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {summary.files_written} files for {summary.people} people to {summary.out_dir} "
        f"in {summary.seconds:.1f}s"
    )
    for source, count in sorted(summary.counts.items()):
        print(f"  {source}: {count}")
    print("  expected: " + ", ".join(f"{k}={v}" for k, v in sorted(summary.expected.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
