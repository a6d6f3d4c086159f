"""Write keys: `UDS_WRITE_KEYS` parsing and finding the key of a request.

A write key says which source a message came from; it is not a secret in the strong sense
(analytics.js ships it to every browser), so it is looked up in a dict rather than compared in
constant time. It is never stored with the messages and never logged.
"""

from __future__ import annotations

import base64
import binascii
import re

WRITE_KEYS_VARIABLE = "UDS_WRITE_KEYS"
DEFAULT_SOURCE = "default"
_SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


class WriteKeyError(ValueError):
    """`UDS_WRITE_KEYS` is malformed; the message names the variable and never a key."""


def parse_write_keys(raw: str | None) -> dict[str, str]:
    """`key` or `key:source_name`, comma-separated, as {key: source name}; a bare key is `default`."""
    keys: dict[str, str] = {}
    for position, item in enumerate((raw or "").split(","), start=1):
        item = item.strip()
        if not item:
            continue
        key, sep, source = item.partition(":")
        key, source = key.strip(), (source.strip() if sep else DEFAULT_SOURCE)
        if not key or any(ch.isspace() for ch in key):
            raise WriteKeyError(
                f"{WRITE_KEYS_VARIABLE}: entry {position} has an empty or blank-containing key"
            )
        if not _SOURCE_NAME.fullmatch(source):
            raise WriteKeyError(
                f"{WRITE_KEYS_VARIABLE}: entry {position} names source {source[:40]!r}; "
                "use letters, digits, '_', '.' or '-' (at most 64)"
            )
        if key in keys:
            raise WriteKeyError(f"{WRITE_KEYS_VARIABLE}: entry {position} repeats an earlier key")
        keys[key] = source
    return keys


def basic_user(header: str | None) -> str | None:
    """The user name of an `Authorization: Basic ...` header (Segment's write key, empty password)."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user = decoded.partition(":")[0]
    return user or None
