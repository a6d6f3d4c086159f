"""The one guarded JSON decode every reader uses: input data never raises, it gets a reason.

Hostile input breaks `json.loads` in more ways than `JSONDecodeError`: 100,000 `[` raise
`RecursionError`, a 5,000-digit integer `ValueError`, a huge document `MemoryError`. Each becomes a
`JsonResult` with a specific reason that callers turn into a quarantine record.

Policies shared by every source (documented in docs/ARCHITECTURE.md, "Hostile input"):
- duplicate keys in one object: the first value wins, as in DuckDB's JSON functions, which read
  Stripe files, so a record reads the same whatever path it takes;
- numbers that do not fit a float (`1e400`, a 400-digit integer) and the non-standard
  `NaN`/`Infinity` are refused with a reason naming where they are, never read as infinity or null;
- strings with an unpaired UTF-16 surrogate (`"\\ud800"`) are refused: they cannot be stored as
  UTF-8, and DuckDB refuses them too.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from uds_pipelines.lib.masking import mask_text

# How much of a JSON path a reason may quote (keys come from the input: masked and cut short).
_REASON_PATH_CHARS = 120
# Integers with fewer digits always fit a float; longer ones are checked.
_FLOAT_INT_DIGITS = 308
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
OUT_OF_RANGE = "number out of range"
NON_STANDARD = "non-standard JSON number"


class NumberOutOfRange(ValueError):
    """A JSON number that has no finite float value (`problem` says which kind)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class UnpairedSurrogate(ValueError):
    """A string escape that is half of a UTF-16 pair."""


@dataclass(frozen=True)
class JsonResult:
    value: Any = None
    error: str | None = None  # None when `value` is the decoded document; else the full reason
    problem: str | None = None  # what went wrong, without where: "invalid JSON", "number out of range"
    detail: str | None = None  # the parser's message or the JSON path of the offending value
    line: int | None = None  # the document's line, for syntax errors

    @property
    def ok(self) -> bool:
        return self.error is None

    def reason_at(self, where: str | None) -> str:
        """The reason placed in its file: "invalid JSON at line 17: Expecting ',' delimiter"."""
        if where is None:
            return self.error or ""
        return f"{self.problem} at {where}" + (f": {self.detail}" if self.detail else "")


def _first_key_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NumberOutOfRange(OUT_OF_RANGE)
    return value


def _float_sized_int(text: str) -> int:
    # float() of a digit string has no length limit; int() refuses past 4,300 digits.
    if len(text) > _FLOAT_INT_DIGITS and math.isinf(float(text)):
        raise NumberOutOfRange(OUT_OF_RANGE)
    return int(text)


def _refuse_constant(name: str) -> float:
    raise NumberOutOfRange(NON_STANDARD)


def _unpaired_surrogates(value: Any) -> bool:
    """Whether any string (key or value) in the document holds a lone surrogate; iterative."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def loads(text: str | bytes, *, lenient: bool = False) -> Any:
    """`json.loads` with the shared policies; raises like it (use `decode` for a reason instead).

    `lenient` is for code that only passes documents on to a reader (the Events API pull): one
    bad event must not refuse its whole page. Non-finite numbers come out as float infinities/NaN
    (`json.dumps` writes `Infinity`/`NaN`) and lone surrogates stay; landing quarantines the event."""
    numbers = {
        "parse_float": _finite_float,
        "parse_int": _float_sized_int,
        "parse_constant": _refuse_constant,
    }
    value = json.loads(text, object_pairs_hook=_first_key_wins, **({} if lenient else numbers))
    if lenient:
        return value
    # Only escapes make lone surrogates (raw ones are not valid UTF-8): skip the walk without them.
    raw = text if isinstance(text, str) else text.decode("utf-8", errors="ignore")
    if _SURROGATE_ESCAPE.search(raw) and _unpaired_surrogates(value):
        raise UnpairedSurrogate("unpaired surrogate in a string")
    return value


class _Refused:
    """Stands in for a refused number while its path is searched."""


def _refused(_text: str) -> Any:
    return _Refused


def _path_of_refused(text: str | bytes) -> str:
    """JSON path (DuckDB's notation, `$.data.object.amount`) of the first refused number."""
    try:
        document = json.loads(
            text,
            object_pairs_hook=_first_key_wins,
            parse_float=lambda t: _Refused if math.isinf(float(t)) else 0.0,
            parse_int=lambda t: _Refused if len(t) > _FLOAT_INT_DIGITS and math.isinf(float(t)) else 0,
            parse_constant=_refused,
        )
    except (ValueError, RecursionError, MemoryError):
        return "$"
    stack: list[tuple[str, Any]] = [("$", document)]
    while stack:
        path, node = stack.pop()
        if node is _Refused:
            return mask_text(path[:_REASON_PATH_CHARS])
        if isinstance(node, dict):
            steps = [
                (f"{path}.{k}" if _IDENTIFIER.fullmatch(k) else f'{path}."{k}"', v) for k, v in node.items()
            ]
            stack.extend(reversed(steps))
        elif isinstance(node, list):
            stack.extend(reversed([(f"{path}[{i}]", v) for i, v in enumerate(node)]))
    return "$"  # only in a duplicate key's ignored value


def _failed(
    problem: str, detail: str | None = None, line: int | None = None, error: str | None = None
) -> JsonResult:
    full = error or (f"{problem} at {detail}" if detail else problem)
    return JsonResult(error=full, problem=problem, detail=detail, line=line)


def decode(text: str | bytes | None, *, lenient: bool = False) -> JsonResult:
    """Decode one JSON document; any failure becomes a reason naming its cause, never an exception."""
    if text is None:
        return _failed("empty JSON document")
    try:
        return JsonResult(value=loads(text, lenient=lenient))
    except json.JSONDecodeError as exc:
        full = f"invalid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
        return _failed("invalid JSON", exc.msg, exc.lineno, full)
    except NumberOutOfRange as exc:
        return _failed(exc.problem, _path_of_refused(text))
    except UnpairedSurrogate as exc:
        return _failed("invalid JSON", str(exc), error=f"invalid JSON: {exc}")
    except RecursionError:
        return _failed("JSON nested too deeply to read")
    except MemoryError:
        return _failed("JSON document too large to read into memory")
    except UnicodeDecodeError as exc:
        return _failed("not UTF-8 text", f"byte {exc.start}")
    except (ValueError, OverflowError, TypeError) as exc:
        # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        return _failed(f"unreadable JSON ({type(exc).__name__})", str(exc)[:80])
