"""The one guarded JSON decode every reader uses: input data never raises, it gets a reason.

Hostile input breaks `json.loads` in more ways than `JSONDecodeError`: 100,000 `[` raise
`RecursionError`, a 5,000-digit integer `ValueError`, a huge document `MemoryError`. Each becomes a
`JsonResult` with a specific reason that callers turn into a quarantine record.

Policies shared by every source (documented in docs/ARCHITECTURE.md, "Hostile input"):
- duplicate keys in one object: the first value wins, as in DuckDB's JSON functions, which read
  Stripe files, so a record reads the same whatever path it takes;
- numbers that do not fit a float (`1e400`) and the non-standard `NaN`/`Infinity` are refused
  with a reason, never read as infinity or null.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

# How much of the offending text a reason may quote (reasons must not carry personal data).
_REASON_TEXT_CHARS = 40


class NumberOutOfRange(ValueError):
    """A JSON number that has no finite float value."""


@dataclass(frozen=True)
class JsonResult:
    value: Any = None
    error: str | None = None  # None when `value` is the decoded document

    @property
    def ok(self) -> bool:
        return self.error is None


def _first_key_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NumberOutOfRange(f"number out of range: {text[:_REASON_TEXT_CHARS]}")
    return value


def _refuse_constant(name: str) -> float:
    raise NumberOutOfRange(f"non-standard JSON number {name}")


def loads(text: str | bytes) -> Any:
    """`json.loads` with the shared policies; raises like it (use `decode` for a reason instead)."""
    return json.loads(
        text,
        object_pairs_hook=_first_key_wins,
        parse_float=_finite_float,
        parse_constant=_refuse_constant,
    )


def decode(text: str | bytes | None) -> JsonResult:
    """Decode one JSON document; any failure becomes a reason naming its cause, never an exception."""
    if text is None:
        return JsonResult(error="empty JSON document")
    try:
        return JsonResult(value=loads(text))
    except json.JSONDecodeError as exc:
        return JsonResult(error=f"invalid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})")
    except NumberOutOfRange as exc:
        return JsonResult(error=str(exc))
    except RecursionError:
        return JsonResult(error="JSON nested too deeply to read")
    except MemoryError:
        return JsonResult(error="JSON document too large to read into memory")
    except UnicodeDecodeError as exc:
        return JsonResult(error=f"not UTF-8 text at byte {exc.start}")
    except (ValueError, OverflowError, TypeError) as exc:
        # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        return JsonResult(error=f"unreadable JSON ({type(exc).__name__}): {str(exc)[:80]}")
