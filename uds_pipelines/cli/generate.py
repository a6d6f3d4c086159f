"""`uds-generate`: write synthetic inbox files for every source plus ground truth to check the pipeline against."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from uds_pipelines.lib.generator import generate
from uds_pipelines.lib.generator.buyer_events import write_buyer_events
from uds_pipelines.lib.generator.core import DEFAULT_END, DEFAULT_START
from uds_pipelines.lib.generator.linkage import CORRUPTION_LEVELS, corruption_level, write_linkage_forms


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uds-generate",
        description="Generate synthetic Stripe events, survey exports, form submissions and privacy requests "
        "under OUT/inbox/, with ground truth under OUT/ground_truth/. Same seed, same bytes.",
    )
    parser.add_argument("--people", type=int, help="number of true people (required unless --linkage-people)")
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
    parser.add_argument(
        "--buyers",
        type=int,
        default=0,
        help="also write this many one-off Stripe buyers with a known BG/NBD + Gamma-Gamma purchase process "
        "(inbox/stripe/buyers_0000.jsonl, true parameters in ground_truth/buyer_params.json; default 0: none)",
    )
    parser.add_argument(
        "--sessions",
        type=int,
        default=0,
        help="also write about this many behavioural event sessions (analytics.js-style, ~10 events each) "
        "to OUT/inbox/events/, truth in OUT/ground_truth/event_people.parquet and cart_abandoners.parquet",
    )
    parser.add_argument(
        "--linkage-people",
        type=int,
        default=None,
        help="instead: write only record-linkage form records for this many people (several damaged "
        "records each, no email or phone) to OUT/inbox/forms/, truth to OUT/ground_truth/linkage_truth.parquet",
    )
    parser.add_argument(
        "--corruption",
        default="medium",
        help=f"with --linkage-people: {', '.join(CORRUPTION_LEVELS)} or a number in 0..1 (default medium)",
    )
    parser.add_argument(
        "--identifiers",
        type=float,
        default=0.0,
        help="with --linkage-people: share of records that also carry the person's email and phone (default 0)",
    )
    return parser


def _epoch(text: str) -> int:
    """`--start` / `--end` (an ISO date or time, UTC unless it says otherwise) as epoch seconds."""
    moment = datetime.fromisoformat(str(text))
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _corruption_arg(text: str) -> float:
    """`--corruption`: a preset name or a number in 0..1."""
    try:
        return corruption_level(float(text))
    except ValueError as exc:
        if "0..1" in str(exc):
            raise
    return corruption_level(text)


def _linkage(args: argparse.Namespace) -> int:
    try:
        level = _corruption_arg(args.corruption)
        if args.linkage_people < 1:
            raise ValueError("--linkage-people must be at least 1")
        if not 0.0 <= args.identifiers <= 1.0:
            raise ValueError("--identifiers must be a share in 0..1")
    except ValueError as exc:
        print(f"uds-generate: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    forms_csv, truth = write_linkage_forms(
        args.out, args.linkage_people, level, args.seed, identifiers=args.identifiers
    )
    seconds = time.perf_counter() - started
    records = pq.read_metadata(truth).num_rows
    print(f"wrote {records} linkage records of {args.linkage_people} people to {forms_csv} and {truth}")
    print(f"  in {seconds:.1f}s ({records / seconds:,.0f} records/s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.linkage_people is not None:
        return _linkage(args)
    if args.people is None or args.people < 1:
        print("uds-generate: --people (at least 1) or --linkage-people is required", file=sys.stderr)
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
            sessions=args.sessions,
        )
    except ValueError as exc:
        print(f"uds-generate: {exc}", file=sys.stderr)
        return 2
    if args.buyers > 0:
        buyers_file = write_buyer_events(
            args.out, args.buyers, args.seed, _epoch(args.start), _epoch(args.end)
        )
        print(f"wrote {args.buyers} buyers with a known purchase process to {buyers_file}")
    print(
        f"wrote {summary.files_written} files for {summary.people} people to {summary.out_dir} "
        f"in {summary.seconds:.1f}s"
    )
    for source, count in sorted(summary.counts.items()):
        print(f"  {source}: {count}")
    print("  expected: " + ", ".join(f"{k}={v}" for k, v in sorted(summary.expected.items())))
    if summary.events:
        rate = summary.events / summary.events_seconds if summary.events_seconds else 0.0
        cpu = summary.events / summary.events_cpu_seconds if summary.events_cpu_seconds else 0.0
        print(
            f"  events: {summary.events} in {summary.events_seconds:.1f}s ({rate:,.0f} events/s; "
            f"{summary.events_cpu_seconds:.1f}s CPU, {cpu:,.0f} events per CPU-second)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
