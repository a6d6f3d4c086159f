"""Event-based computed traits and funnels from YAML (`UDS_TRAITS_FILE`), validated on load.

The kinds Segment's computed traits and mParticle's calculated attributes offer, over the events
of each person (`person_events`) up to the run's as-of time:

| kind | needs | result |
|---|---|---|
| `count` | | number of matching events (0 when none) |
| `sum`, `avg`, `min`, `max` | `property` | of the property read as a number |
| `first_value`, `last_value` | `property` | the property of the earliest / newest matching event |
| `first_timestamp`, `last_timestamp` | | when the earliest / newest matching event happened |
| `most_frequent` | `property` | the most frequent value (ties: the smallest) |
| `unique_list` | `property` | JSON array of the distinct values, sorted |
| `unique_count` | `property` | number of distinct values (0 when none) |
| `abandoned` | `followed_by`, `within` | when the newest matching event happened, if no `followed_by` event came after it and `within` has passed since (a cart abandoned) |

Every kind takes `event` (a track event name, or a list; absent: every event), `type` (`track`,
`page`, ...; absent: any) and `window` (only events within this long before as-of). `property` is a
dot path into `properties` (`revenue`, `products.0.sku`) or a list tried in order (`[revenue, total]`).
Durations are `<n>m`, `<n>h`, `<n>d` or `<n>w`. A broken trait is reported and skipped, the others
still compute, as broken segments are.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@functools.cache
def sql_keywords() -> frozenset[str]:
    """DuckDB's reserved words: a trait (a profile column, used bare in SQL and in segment
    expressions) named `order` or `group` would break every query it is written into."""
    with duckdb.connect() as con:
        rows = con.execute("SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category = 'reserved'")
        return frozenset(r[0] for r in rows.fetchall())


DURATION_RE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "MINUTE", "h": "HOUR", "d": "DAY", "w": "WEEK"}
PROPERTY_RE = re.compile(r"^[A-Za-z0-9_$][A-Za-z0-9_$ -]*(\.[A-Za-z0-9_$][A-Za-z0-9_$ -]*)*$")
NUMERIC = ("sum", "avg", "min", "max")
NEEDS_PROPERTY = (*NUMERIC, "first_value", "last_value", "most_frequent", "unique_list", "unique_count")
KINDS = (*NEEDS_PROPERTY, "count", "first_timestamp", "last_timestamp", "abandoned")
TYPES = ("track", "page", "screen", "identify", "group", "alias")
_KEYS = {"name", "description", "kind", "event", "type", "property", "window", "followed_by", "within"}


@dataclass(frozen=True)
class TraitDefinition:
    name: str
    kind: str
    description: str = ""
    events: tuple[str, ...] = ()  # empty: any event
    type: str | None = None
    properties: tuple[str, ...] = ()  # dot paths, the first non-null wins
    window: str | None = None  # DuckDB interval text, e.g. "90 DAY"
    followed_by: tuple[str, ...] = ()
    within: str | None = None


@dataclass(frozen=True)
class FunnelDefinition:
    name: str
    steps: tuple[str, ...]
    window: str | None = None
    description: str = ""


@dataclass(frozen=True)
class TraitError:
    """Why one trait or funnel could not be used; the others still compute."""

    name: str
    message: str
    section: str = "traits"  # `traits`, `funnels`, or `file` for the whole file


def interval(text: object) -> str | None:
    """`"90d"` -> `"90 DAY"`; None when `text` is not a duration."""
    match = DURATION_RE.match(str(text)) if isinstance(text, (str, int)) else None
    return f"{int(match.group(1))} {_UNITS[match.group(2)]}" if match else None


def _names(value: object) -> tuple[str, ...] | None:
    """A name or a list of names as a tuple; None when it is neither."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v.strip() for v in items):
        return None
    return tuple(v.strip() for v in items)


def _trait(item: dict, reserved: set[str]) -> TraitDefinition | str:
    """A definition, or the reason it is unusable."""
    name, kind = str(item.get("name") or ""), item.get("kind")
    unknown = sorted(set(item) - _KEYS)
    if not NAME_RE.match(name):
        return f"name must match {NAME_RE.pattern}"
    if name in sql_keywords():
        return f"name is a SQL keyword: pick another (e.g. {name}_count)"
    if name in reserved:
        return "name is already a profile column"
    if unknown:
        return f"unknown keys: {', '.join(unknown)}"
    if kind not in KINDS:
        return f"kind must be one of {', '.join(KINDS)}"
    events = _names(item["event"]) if "event" in item else ()
    if events is None:
        return "'event' must be an event name or a list of names"
    if item.get("type") is not None and item["type"] not in TYPES:
        return f"type must be one of {', '.join(TYPES)}"
    properties: tuple[str, ...] = ()
    if kind in NEEDS_PROPERTY:
        properties = _names(item.get("property")) or ()
        if not properties or not all(PROPERTY_RE.match(p) for p in properties):
            return f"kind {kind} needs 'property': a dot path into properties, or a list of them"
    window = interval(item["window"]) if item.get("window") is not None else None
    if item.get("window") is not None and window is None:
        return "'window' must be a duration such as 90d, 12h, 30m or 2w"
    followed_by, within = (), None
    if kind == "abandoned":
        followed_by, within = _names(item.get("followed_by")), interval(item.get("within"))
        if not followed_by or within is None:
            return "kind abandoned needs 'followed_by' (event names) and 'within' (a duration such as 1h)"
    description = str(item.get("description") or "")
    return TraitDefinition(
        name, kind, description, events, item.get("type"), properties, window, followed_by, within
    )


def _funnel(item: dict) -> FunnelDefinition | str:
    name = str(item.get("name") or "")
    steps = _names(item.get("steps"))
    window = interval(item["window"]) if item.get("window") is not None else None
    if not NAME_RE.match(name):
        return f"name must match {NAME_RE.pattern}"
    if name in sql_keywords():
        return f"name is a SQL keyword: pick another (e.g. {name}_count)"
    if sorted(set(item) - {"name", "description", "steps", "window"}):
        return f"unknown keys: {', '.join(sorted(set(item) - {'name', 'description', 'steps', 'window'}))}"
    if not steps or len(steps) < 2:
        return "'steps' must list at least two event names"
    if item.get("window") is not None and window is None:
        return "'window' must be a duration such as 30d"
    return FunnelDefinition(name, steps, window, str(item.get("description") or ""))


def parse_traits(
    data: object, reserved: set[str] = frozenset()
) -> tuple[list[TraitDefinition], list[FunnelDefinition], list[TraitError]]:
    """`{traits: [...], funnels: [...]}`: the usable definitions and an error per unusable one.
    `reserved`: names a trait may not take (the profile's own columns)."""
    if not isinstance(data, dict):
        return [], [], [TraitError("<file>", "expected a mapping with 'traits' and 'funnels' lists", "file")]
    traits: list[TraitDefinition] = []
    funnels: list[FunnelDefinition] = []
    errors: list[TraitError] = []
    for key, build in (("traits", lambda i: _trait(i, reserved)), ("funnels", _funnel)):
        items = data.get(key) or []
        if not isinstance(items, list):
            errors.append(TraitError("<file>", f"'{key}' must be a list", key))
            continue
        seen: set[str] = set()
        for index, item in enumerate(items, start=1):
            label = (
                str(item.get("name") or f"<{key} {index}>") if isinstance(item, dict) else f"<{key} {index}>"
            )
            result = build(item) if isinstance(item, dict) else "each entry must be a mapping"
            if isinstance(result, str):
                errors.append(TraitError(label, result, key))
            elif result.name in seen:
                errors.append(TraitError(label, "duplicate name", key))
            else:
                seen.add(result.name)
                (traits if key == "traits" else funnels).append(result)  # type: ignore[arg-type]
    return traits, funnels, errors


def load_traits(
    path: Path, reserved: set[str] = frozenset()
) -> tuple[list[TraitDefinition], list[FunnelDefinition], list[TraitError]]:
    """Read and validate a traits YAML file; an unreadable file is one error, not a raise."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [], [], [TraitError("<file>", f"cannot read {Path(path).name}: {exc}", "file")]
    return parse_traits(data, reserved)
