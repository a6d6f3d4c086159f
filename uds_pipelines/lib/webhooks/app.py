"""Starlette app: POST /webhooks/stripe (verify, spool durably, then 200) and GET /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Protocol

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from uds_pipelines.lib import safe_json
from uds_pipelines.lib.masking import mask_text
from uds_pipelines.lib.webhooks.signature import DEFAULT_TOLERANCE_SECONDS, SignatureError, verify_signature
from uds_pipelines.lib.webhooks.spool import (
    DEFAULT_MAX_AGE_SECONDS,
    DEFAULT_MAX_BYTES,
    Spool,
    inbox_dir_for,
    spool_dir_for,
)

log = logging.getLogger("uds_pipelines.webhooks")

MAX_BODY_BYTES = 1024 * 1024
# Oversized bodies are read and discarded up to this size so the client gets its 413 instead of
# a connection reset mid-upload; past it the connection is simply closed after the answer.
DRAIN_LIMIT_BYTES = 32 * 1024 * 1024


class BodyTooLarge(Exception):
    pass


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The raw body, or BodyTooLarge as soon as the declared or streamed size passes `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ValueError("invalid Content-Length")
        if int(declared) > limit:
            await _drain(request, int(declared))
            raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            await _drain(request, size)
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(request: Request, seen: int) -> None:
    if seen > DRAIN_LIMIT_BYTES:
        return
    total = 0
    with contextlib.suppress(Exception):
        async for chunk in request.stream():
            total += len(chunk)
            if total > DRAIN_LIMIT_BYTES:
                return


class RotatingSpool(Protocol):
    def start(self) -> object: ...
    def rotate(self, *, only_if_due: bool = False) -> Path | None: ...
    def close(self) -> Path | None: ...


def spool_lifespan(spool: RotatingSpool, interval: float):
    """A Starlette lifespan: start the spool (recovering what a killed server left), publish it
    whenever it is due, every `interval` seconds, and publish what is left on shutdown."""

    async def rotate_loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await anyio.to_thread.run_sync(lambda: spool.rotate(only_if_due=True))
            except OSError as exc:
                log.error("spool rotation failed: %s", exc.strerror or type(exc).__name__)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(spool.start)
        task = asyncio.create_task(rotate_loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await anyio.to_thread.run_sync(spool.close)

    return lifespan


def parse_event(body: bytes) -> dict:
    """The event object, or ValueError with a short reason; nothing about the contents leaks."""
    decoded = safe_json.decode(body)
    if decoded.problem in ("invalid JSON", "not UTF-8 text"):
        raise ValueError("body is not valid JSON")
    if not decoded.ok:
        # Nesting, numbers out of range: the kind only (a JSON path could carry personal data).
        raise ValueError(f"body is not usable JSON: {decoded.problem}")
    event = decoded.value
    if not isinstance(event, dict):
        raise ValueError("body is not a JSON object")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        raise ValueError("event has no id")
    if event.get("object", "event") != "event":
        raise ValueError("object is not an event")
    if "type" in event and not isinstance(event["type"], str):
        raise ValueError("event type is not a string")
    return event


def _safe(value: object, limit: int = 80) -> str:
    return mask_text(str(value)[:limit])


def create_app(
    data_dir: Path,
    secrets: Sequence[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    max_body_bytes: int = MAX_BODY_BYTES,
    spool_max_bytes: int = DEFAULT_MAX_BYTES,
    spool_max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
    check_interval_seconds: float | None = None,
) -> Starlette:
    """The receiver app; its lifespan recovers leftover spool files and flushes on age and shutdown."""
    if not secrets:
        raise ValueError("at least one webhook secret is required")
    secret_list = tuple(secrets)
    spool = Spool(
        spool_dir_for(data_dir),
        inbox_dir_for(data_dir),
        max_bytes=spool_max_bytes,
        max_age_seconds=spool_max_age_seconds,
    )
    interval = check_interval_seconds or max(0.05, min(1.0, spool_max_age_seconds / 4))

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def stripe_webhook(request: Request) -> JSONResponse:
        try:
            body = await read_limited_body(request, max_body_bytes)
        except BodyTooLarge:
            log.warning("webhook rejected: body over %d bytes", max_body_bytes)
            return _error(413, f"body larger than {max_body_bytes} bytes")
        except ValueError as exc:
            return _error(400, str(exc))
        except ClientDisconnect:
            return _error(400, "client disconnected")
        try:
            verify_signature(body, request.headers.get("stripe-signature"), secret_list, tolerance=tolerance)
            event = parse_event(body)
        except (SignatureError, ValueError) as exc:
            log.warning("webhook rejected: %s", exc)
            return _error(400, str(exc))
        line = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
        try:
            await anyio.to_thread.run_sync(spool.append, line)
        except OSError as exc:
            # Not acknowledged: Stripe retries, and nothing half-written stays in the spool.
            log.error("webhook %s not persisted: %s", _safe(event["id"]), exc.strerror or type(exc).__name__)
            return _error(503, "event could not be stored")
        log.info("webhook accepted id=%s type=%s", _safe(event["id"]), _safe(event.get("type")))
        return JSONResponse({"received": True, "id": event["id"]})

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
        ],
        lifespan=spool_lifespan(spool, interval),
    )
    app.state.spool = spool
    return app
