"""Audience definitions from YAML: which segment, for which consent purpose, in which format, where."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from uds_pipelines.lib.audiences.destinations import DESTINATION_FORMATS

# `email` and `hashed` are our generic files; the others are ad platforms' own layouts.
FORMATS = ("email", "hashed", *DESTINATION_FORMATS)
DESTINATIONS = ("file", "warehouse")
# Names become folder and file names, so they stay plain.
NAME_RE = re.compile(r"^[a-z][a-z0-9_\-]{0,62}$")


@dataclass(frozen=True)
class AudienceDefinition:
    name: str
    segment: str
    purpose: str
    format: str
    destinations: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class AudienceError:
    """Why one audience cannot be built; the others still are."""

    name: str
    message: str


def _check(item: dict, purposes: Sequence[str], segment_names: set[str] | None) -> str | None:
    unknown = sorted(set(item) - {"name", "segment", "purpose", "format", "destinations", "description"})
    if unknown:
        return f"unknown keys: {', '.join(unknown)}"
    if not NAME_RE.match(str(item.get("name") or "")):
        return f"name must match {NAME_RE.pattern}"
    segment = item.get("segment")
    if not isinstance(segment, str) or not segment:
        return "'segment' is required"
    if segment_names is not None and segment not in segment_names:
        return f"unknown segment '{segment}'"
    if item.get("purpose") not in purposes:
        return f"'purpose' must be one of {', '.join(purposes)}, got {item.get('purpose')!r}"
    if item.get("format") not in FORMATS:
        return f"'format' must be one of {', '.join(FORMATS)}, got {item.get('format')!r}"
    destinations = item.get("destinations", ["file"])
    if not isinstance(destinations, list) or not destinations:
        return "'destinations' must be a non-empty list"
    bad = [d for d in destinations if d not in DESTINATIONS]
    if bad:
        return f"unknown destinations {bad}; allowed: {', '.join(DESTINATIONS)}"
    return None


def parse_audiences(
    data: object, purposes: Sequence[str], segment_names: Iterable[str] | None = None
) -> tuple[list[AudienceDefinition], list[AudienceError]]:
    """Validate `audiences: [{name, segment, purpose, format, destinations}, ...]` (or a bare list)."""
    items = data.get("audiences") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return [], [AudienceError("<file>", "expected a list under 'audiences'")]
    known_segments = set(segment_names) if segment_names is not None else None
    audiences: list[AudienceDefinition] = []
    errors: list[AudienceError] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors.append(AudienceError(f"<audience {index}>", "each audience must be a mapping"))
            continue
        name = str(item.get("name") or f"<audience {index}>")
        problem = _check(item, purposes, known_segments)
        if problem is None and name in seen:
            problem = "duplicate audience name"
        if problem:
            errors.append(AudienceError(name, problem))
            continue
        seen.add(name)
        audiences.append(
            AudienceDefinition(
                name=name,
                segment=item["segment"],
                purpose=item["purpose"],
                format=item["format"],
                destinations=tuple(dict.fromkeys(item.get("destinations", ["file"]))),
                description=str(item.get("description") or ""),
            )
        )
    return audiences, errors


def load_audiences(
    path: Path, purposes: Sequence[str], segment_names: Iterable[str] | None = None
) -> tuple[list[AudienceDefinition], list[AudienceError]]:
    """Read and validate an audiences YAML file; a broken file is one error, not a raise."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return [], [AudienceError("<file>", f"cannot read {Path(path).name}: {exc}")]
    return parse_audiences(data, purposes, segment_names)
