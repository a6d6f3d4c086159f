"""`uds-collect`: serve the Segment-compatible event collector (CONTRACT section 7) with uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from uds_pipelines.lib.collect.auth import WRITE_KEYS_VARIABLE, WriteKeyError, parse_write_keys
from uds_pipelines.lib.collect.dedup import DEFAULT_WINDOW
from uds_pipelines.lib.collect.spool import DEFAULT_MAX_AGE_SECONDS, DEFAULT_MAX_BYTES, inbox_dir_for
from uds_pipelines.lib.config import ConfigError, Settings

EXIT_CONFIG = 2
MISSING_KEYS_MESSAGE = (
    f"uds-collect: {WRITE_KEYS_VARIABLE} is not set. Set it to the write keys your SDKs send, "
    "comma-separated, each `key` or `key:source_name`; the collector refuses to start without one."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uds-collect",
        description="Receive Segment/RudderStack SDK events on POST /v1/... and land them in <data dir>/inbox/events/.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788)
    parser.add_argument("--data-dir", type=Path, default=None, help="overrides UDS_DATA_DIR")
    parser.add_argument(
        "--spool-max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="publish the spool file past this size"
    )
    parser.add_argument(
        "--spool-max-age",
        type=float,
        default=DEFAULT_MAX_AGE_SECONDS,
        help="publish the spool file this many seconds after its first message",
    )
    parser.add_argument(
        "--dedup-window", type=int, default=DEFAULT_WINDOW, help="recent messageIds remembered per source"
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
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
    data_dir = args.data_dir.expanduser().resolve() if args.data_dir else settings.data_dir
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )

    import uvicorn

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
    # Access logs stay off: paths and client addresses say nothing useful, and IPs are personal data.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
