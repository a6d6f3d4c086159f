"""What `uds-webhooks` and `uds-collect` share: their common options, logging and the uvicorn run."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from uds_pipelines.lib.config import Settings

EXIT_CONFIG = 2


def server_parser(
    prog: str, description: str, port: int, max_bytes: int, max_age: float
) -> argparse.ArgumentParser:
    """`--host`, `--port`, `--data-dir`, the spool's publishing thresholds and `--log-level`."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--data-dir", type=Path, default=None, help="overrides UDS_DATA_DIR")
    parser.add_argument(
        "--spool-max-bytes", type=int, default=max_bytes, help="publish the spool file past this size"
    )
    parser.add_argument(
        "--spool-max-age",
        type=float,
        default=max_age,
        help="publish the spool file this many seconds after its first message",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser


def data_dir_of(args: argparse.Namespace, settings: Settings) -> Path:
    return args.data_dir.expanduser().resolve() if args.data_dir else settings.data_dir


def configure_logging(args: argparse.Namespace) -> None:
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def serve(app: Starlette, args: argparse.Namespace) -> int:
    import uvicorn

    # Access logs stay off: paths and client addresses say nothing useful, and IPs are personal
    # data; each server logs its own line per request where one is worth having.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0
