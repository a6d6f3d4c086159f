"""Stripe-Signature verification (HMAC-SHA256 over "{t}.{raw body}", several secrets while rotating)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass

SIGNATURE_SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The request is not provably from Stripe; the message is a short, safe reason for the 400 body."""


@dataclass(frozen=True)
class ParsedHeader:
    timestamp: int
    signatures: tuple[str, ...]


def compute_signature(payload: bytes, timestamp: int, secret: str) -> str:
    """Hex HMAC-SHA256 of `"{timestamp}." + payload` keyed with the whole `whsec_...` secret, as Stripe does."""
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header value for `payload`, for tests and local tooling."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={ts},{SIGNATURE_SCHEME}={compute_signature(payload, ts, secret)}"


def parse_signature_header(header: str) -> ParsedHeader:
    """Split `t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]`; unknown schemes are ignored as Stripe advises."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise SignatureError("malformed Stripe-Signature header")
        key, value = key.strip(), value.strip()
        if key == "t":
            if timestamp is not None or not value.isdigit():
                raise SignatureError("malformed Stripe-Signature header: bad timestamp")
            timestamp = int(value)
        elif key == SIGNATURE_SCHEME and value:
            signatures.append(value.lower())
    if timestamp is None:
        raise SignatureError("malformed Stripe-Signature header: no timestamp")
    if not signatures:
        raise SignatureError("no v1 signature in Stripe-Signature header")
    return ParsedHeader(timestamp, tuple(signatures))


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Return the signed timestamp when ANY v1 signature matches ANY secret within the tolerance.

    Raises SignatureError otherwise. Every comparison is constant-time and none is skipped, so
    timing says nothing about which secret or signature came close.
    """
    if not secrets:
        raise SignatureError("no webhook secret configured")
    if header is None or not header.strip():
        raise SignatureError("missing Stripe-Signature header")
    parsed = parse_signature_header(header)
    matched = False
    for secret in secrets:
        expected = compute_signature(payload, parsed.timestamp, secret).encode()
        for candidate in parsed.signatures:
            matched |= hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
    if not matched:
        raise SignatureError("signature does not match")
    current = time.time() if now is None else now
    if abs(current - parsed.timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    return parsed.timestamp
