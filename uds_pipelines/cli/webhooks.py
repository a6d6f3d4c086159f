"""`uds-webhooks`: serve the Stripe webhook receiver (CONTRACT section 5) with uvicorn."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from uds_pipelines.lib.config import ConfigError, Settings
from uds_pipelines.lib.webhooks.spool import DEFAULT_MAX_AGE_SECONDS, DEFAULT_MAX_BYTES

EXIT_CONFIG = 2
MISSING_SECRET_MESSAGE = (
    "uds-webhooks: UDS_STRIPE_WEBHOOK_SECRET is not set. Set it to the endpoint's signing secret "
    "(whsec_..., comma-separated while rotating); the receiver refuses to start without it."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uds-webhooks",
        description="Receive Stripe webhooks on POST /webhooks/stripe and land them in <data dir>/inbox/stripe/.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--data-dir", type=Path, default=None, help="overrides UDS_DATA_DIR")
    parser.add_argument(
        "--spool-max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="rotate the spool past this size"
    )
    parser.add_argument(
        "--spool-max-age",
        type=float,
        default=DEFAULT_MAX_AGE_SECONDS,
        help="rotate the spool this many seconds after its first event",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"uds-webhooks: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if not settings.webhook_secrets:
        print(MISSING_SECRET_MESSAGE, file=sys.stderr)
        return EXIT_CONFIG
    data_dir = args.data_dir.expanduser().resolve() if args.data_dir else settings.data_dir
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )

    import uvicorn

    from uds_pipelines.lib.webhooks.app import create_app

    app = create_app(
        data_dir,
        settings.webhook_secrets,
        spool_max_bytes=args.spool_max_bytes,
        spool_max_age_seconds=args.spool_max_age,
    )
    logging.getLogger("uds_pipelines.webhooks").info(
        "serving POST /webhooks/stripe on %s:%d, inbox %s",
        args.host,
        args.port,
        data_dir / "inbox" / "stripe",
    )
    # Access logs stay off: our own log line per delivery carries the event id and type only.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
