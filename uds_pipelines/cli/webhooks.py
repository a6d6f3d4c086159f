"""`uds-webhooks`: serve the Stripe webhook receiver (CONTRACT section 5) with uvicorn."""

from __future__ import annotations

import argparse
import logging
import sys

from uds_pipelines.cli._server import EXIT_CONFIG, configure_logging, data_dir_of, serve, server_parser
from uds_pipelines.lib.config import ConfigError, Settings
from uds_pipelines.lib.webhooks.spool import DEFAULT_MAX_AGE_SECONDS, DEFAULT_MAX_BYTES

MISSING_SECRET_MESSAGE = (
    "uds-webhooks: UDS_STRIPE_WEBHOOK_SECRET is not set. Set it to the endpoint's signing secret "
    "(whsec_..., comma-separated while rotating); the receiver refuses to start without it."
)


def build_parser() -> argparse.ArgumentParser:
    return server_parser(
        "uds-webhooks",
        "Receive Stripe webhooks on POST /webhooks/stripe and land them in <data dir>/inbox/stripe/.",
        8787,
        DEFAULT_MAX_BYTES,
        DEFAULT_MAX_AGE_SECONDS,
    )


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
    data_dir = data_dir_of(args, settings)
    configure_logging(args)

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
    return serve(app, args)


if __name__ == "__main__":
    sys.exit(main())
