"""`uds-collect`: serve the Segment-compatible event collector (CONTRACT section 7) with uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from uds_pipelines.cli._server import EXIT_CONFIG, configure_logging, data_dir_of, serve, server_parser
from uds_pipelines.lib.collect.auth import WRITE_KEYS_VARIABLE, WriteKeyError, parse_write_keys
from uds_pipelines.lib.collect.dedup import DEFAULT_WINDOW
from uds_pipelines.lib.collect.spool import DEFAULT_MAX_AGE_SECONDS, DEFAULT_MAX_BYTES, inbox_dir_for
from uds_pipelines.lib.config import ConfigError, Settings

MISSING_KEYS_MESSAGE = (
    f"uds-collect: {WRITE_KEYS_VARIABLE} is not set. Set it to the write keys your SDKs send, "
    "comma-separated, each `key` or `key:source_name`; the collector refuses to start without one."
)


def build_parser() -> argparse.ArgumentParser:
    parser = server_parser(
        "uds-collect",
        "Receive Segment/RudderStack SDK events on POST /v1/... and land them in <data dir>/inbox/events/.",
        8788,
        DEFAULT_MAX_BYTES,
        DEFAULT_MAX_AGE_SECONDS,
    )
    parser.add_argument(
        "--dedup-window", type=int, default=DEFAULT_WINDOW, help="recent messageIds remembered per source"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        write_keys = parse_write_keys(os.environ.get(WRITE_KEYS_VARIABLE))
    except (ConfigError, WriteKeyError) as exc:
        print(f"uds-collect: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if not write_keys:
        print(MISSING_KEYS_MESSAGE, file=sys.stderr)
        return EXIT_CONFIG
    data_dir = data_dir_of(args, settings)
    configure_logging(args)

    from uds_pipelines.lib.collect.app import create_app

    app = create_app(
        data_dir,
        write_keys,
        spool_max_bytes=args.spool_max_bytes,
        spool_max_age_seconds=args.spool_max_age,
        dedup_window=args.dedup_window,
    )
    logging.getLogger("uds_pipelines.collect").info(
        "serving the Tracking API on %s:%d for source(s) %s, inbox %s",
        args.host,
        args.port,
        ", ".join(sorted(set(write_keys.values()))),
        inbox_dir_for(data_dir),
    )
    return serve(app, args)


if __name__ == "__main__":
    sys.exit(main())
