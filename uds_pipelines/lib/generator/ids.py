"""Deterministic Stripe-looking ids drawn from a seeded random source."""

from __future__ import annotations

import base64
import random
import string

ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase

_B64_TO_ALNUM = bytes.maketrans(b"+/", b"Xz")


class FastRandom(random.Random):
    """`random.Random` plus `token(n)`: id characters sliced from one big seeded random buffer.

    Drawing ids a buffer at a time instead of a call per id matters at a million events.
    """

    _buffer = ""
    _pos = 0

    def token(self, n: int) -> str:
        if self._pos + n > len(self._buffer):
            self._buffer = base64.b64encode(self.randbytes(3 * 8192)).translate(_B64_TO_ALNUM).decode("ascii")
            self._pos = 0
        self._pos += n
        return self._buffer[self._pos - n : self._pos]


def sid(rng: random.Random, prefix: str, length: int = 24) -> str:
    """A Stripe-looking id such as `evt_1Pgc76B7WZ01zgkWwyRHS12y` (base64 letters, symbols mapped away)."""
    if isinstance(rng, FastRandom):
        return prefix + "1" + rng.token(length - 1)
    raw = base64.b64encode(rng.randbytes(length)).translate(_B64_TO_ALNUM)
    return prefix + "1" + raw[: length - 1].decode("ascii")
