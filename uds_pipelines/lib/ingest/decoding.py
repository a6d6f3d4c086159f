"""Decoding of exported text files whose encoding nobody wrote down."""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # the codec used
    decision: (
        str  # why: "utf-8 BOM", "utf-16 BOM", "valid utf-8", "fallback cp1252 (invalid utf-8 at byte N)"
    )
    lossy: bool = False  # True when bytes could not be decoded and were replaced


def decode_bytes(data: bytes) -> DecodedText:
    """Decode export bytes: BOMs first (UTF-8, UTF-16 LE/BE as Excel's "Unicode text"), then
    strict UTF-8, then a heuristic for BOM-less UTF-16, then cp1252, which maps nearly every byte.
    The decision is recorded so a user can see why a file read the way it did."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict_or_replace(data[3:], "utf-8", "utf-8 BOM")
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return _strict_or_replace(data, "utf-16", "utf-16 BOM")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8", "valid utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    sample = data[:4000]
    if len(sample) >= 4:
        zeros_odd = sample[1::2].count(0) / max(1, len(sample[1::2]))
        zeros_even = sample[0::2].count(0) / max(1, len(sample[0::2]))
        if zeros_odd > 0.3 and zeros_even < 0.05:
            return _strict_or_replace(data, "utf-16-le", "utf-16-le without BOM (NUL pattern)")
        if zeros_even > 0.3 and zeros_odd < 0.05:
            return _strict_or_replace(data, "utf-16-be", "utf-16-be without BOM (NUL pattern)")
    reason = f"invalid utf-8 at byte {utf8_error.start}"
    try:
        return DecodedText(data.decode("cp1252"), "cp1252", f"fallback cp1252 ({reason})")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        return DecodedText(text, "utf-8", f"utf-8 with replacement characters ({reason})", lossy=True)


def _strict_or_replace(data: bytes, codec: str, decision: str) -> DecodedText:
    try:
        return DecodedText(data.decode(codec), codec, decision)
    except UnicodeDecodeError as exc:
        text = data.decode(codec, errors="replace")
        return DecodedText(text, codec, f"{decision}, invalid at byte {exc.start}: replaced", lossy=True)
