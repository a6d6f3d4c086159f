"""Starlette app: Segment's HTTP Tracking API (POST /v1/<call>) and GET /healthz.

A request is answered `200 {"success": true}` only once every message in it is durable in the
spool (or was already, for a retried messageId); until then the client keeps it and retries.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from uds_pipelines.lib.collect.auth import basic_user
from uds_pipelines.lib.collect.dedup import DEFAULT_WINDOW, DedupWindow
from uds_pipelines.lib.collect.messages import (
    MAX_BATCH_BYTES,
    PATH_KINDS,
    BadRequest,
    TooLarge,
    decompress,
    encode_line,
    normalize,
    parse_payload,
    refused_line,
    spool_id,
)
from uds_pipelines.lib.collect.spool import (
    DEFAULT_MAX_AGE_SECONDS,
    DEFAULT_MAX_BYTES,
    EventSpool,
    Record,
    inbox_dir_for,
    spool_dir_for,
)
from uds_pipelines.lib.webhooks.app import BodyTooLarge, read_limited_body, spool_lifespan

log = logging.getLogger("uds_pipelines.collect")

# Browsers send analytics.js calls cross-origin; the headers are the ones its dispatchers and the
# Basic-auth HTTP clients set. Any origin may post: the write key, not the page, picks the source.
CORS_HEADERS = ["Authorization", "Content-Type", "Content-Encoding"]


class Unauthorized(Exception):
    pass


def _answer(status: int, reason: str, code: str) -> JSONResponse:
    # `code` and `message` are what the Segment SDKs print from an error answer.
    headers = {"WWW-Authenticate": 'Basic realm="uds-collect"'} if status == 401 else None
    return JSONResponse(
        {"success": False, "code": code, "message": reason}, status_code=status, headers=headers
    )


def build_records(
    body: bytes, kind: str, authorization: str | None, write_keys: Mapping[str, str]
) -> list[Record]:
    """Everything between the raw body and the spool: the key, the messages, their stored lines."""
    key = basic_user(authorization)
    if key is not None and key not in write_keys:
        raise Unauthorized("unknown write key")  # before parsing: strangers cost no JSON work
    payload = parse_payload(body, kind)
    if key is None and isinstance(payload.write_key, str):
        key = payload.write_key
    if key is None:
        raise Unauthorized("no write key: send it as the HTTP Basic user name or as writeKey in the body")
    source = write_keys.get(key)
    if source is None:
        raise Unauthorized("unknown write key")
    received_at = datetime.now(UTC)
    records: list[Record] = []
    for index, message in enumerate(payload.messages):
        where = f"batch[{index}]" if kind == "batch" else "message"
        own_key = message.get("writeKey")
        message_source = source
        if own_key is not None and own_key != key:
            message_source = write_keys.get(own_key) if isinstance(own_key, str) else None
            if message_source is None:
                raise Unauthorized(f"{where} has an unknown write key")
        try:
            stored = normalize(message, where, payload, message_source, received_at)
        except BadRequest as exc:
            if kind != "batch" or isinstance(exc, TooLarge):
                raise
            # Segment answers 200 and drops such a call later; an SDK that got a 400 would drop the
            # whole batch, valid calls too. The call is stored as sent, with the reason, and the
            # events landing quarantines it (CONTRACT: nothing silently dropped).
            stored = refused_line(message, where, str(exc), message_source, received_at)
        records.append((message_source, spool_id(stored), encode_line(stored)))
    return records


def create_app(
    data_dir: Path,
    write_keys: Mapping[str, str],
    *,
    spool_max_bytes: int = DEFAULT_MAX_BYTES,
    spool_max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
    dedup_window: int = DEFAULT_WINDOW,
    check_interval_seconds: float | None = None,
) -> Starlette:
    """The collector app; its lifespan recovers dead spools, rotates on age and flushes on shutdown."""
    if not write_keys:
        raise ValueError("at least one write key is required")
    keys = dict(write_keys)
    spool = EventSpool(
        spool_dir_for(data_dir),
        inbox_dir_for(data_dir),
        max_bytes=spool_max_bytes,
        max_age_seconds=spool_max_age_seconds,
        dedup=DedupWindow(dedup_window),
    )
    interval = check_interval_seconds or max(0.05, min(1.0, spool_max_age_seconds / 4))

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def collect(request: Request) -> JSONResponse:
        kind = PATH_KINDS.get(request.path_params["kind"])
        if kind is None:
            return _answer(404, "unknown endpoint", "not_found")
        try:
            raw = await read_limited_body(request, MAX_BATCH_BYTES)
        except BodyTooLarge:
            return _answer(
                413, f"request body over the {MAX_BATCH_BYTES // 1024} KB batch limit", "too_large"
            )
        except ValueError as exc:
            return _answer(400, str(exc), "bad_request")
        except ClientDisconnect:
            return _answer(400, "client disconnected", "bad_request")
        encoding = request.headers.get("content-encoding")
        authorization = request.headers.get("authorization")

        def accept() -> tuple[int, int]:
            records = build_records(decompress(raw, encoding), kind, authorization, keys)
            return len(records), spool.commit(records)

        try:
            # Parsing and the spool write run off the event loop, which keeps reading other bodies.
            received, stored = await anyio.to_thread.run_sync(accept)
        except Unauthorized as exc:
            log.warning("collect rejected (401): %s", exc)
            return _answer(401, str(exc), "unauthorized")
        except TooLarge as exc:
            log.warning("collect rejected (413): %s", exc)
            return _answer(413, str(exc), "too_large")
        except BadRequest as exc:
            log.warning("collect rejected (400): %s", exc)
            return _answer(400, str(exc), "bad_request")
        except OSError as exc:
            # Not acknowledged: the SDK retries; what was written is recovered or rewritten.
            log.error("collect could not store a request: %s", exc.strerror or type(exc).__name__)
            return _answer(503, "messages could not be stored", "unavailable")
        log.debug("collected %d message(s), %d new", received, stored)
        return JSONResponse({"success": True})

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/v1/{kind}", collect, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origin_regex=r".*",
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=CORS_HEADERS,
                max_age=86400,
            )
        ],
        lifespan=spool_lifespan(spool, interval),
    )
    app.state.spool = spool
    return app
