"""Segment definitions from YAML, validated on load and against the actual profile columns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import yaml

from uds_pipelines.lib.masking import mask_text

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_MISSING_COLUMN_RE = re.compile(
    r'(?:Referenced column "([^"]+)" not found|does not have a column named "([^"]+)")'
)
_QUOTED_RE = re.compile(r"'[^']*'")
_FUNCTION_RE = re.compile(r"Scalar Function with name (\w+) does not exist")


@dataclass(frozen=True)
class SegmentDefinition:
    """`where` is a DuckDB boolean expression over profile columns and the TIMESTAMPTZ `as_of`."""

    name: str
    description: str
    where: str


@dataclass(frozen=True)
class SegmentError:
    """Why one segment could not be used; the others still compute."""

    name: str
    message: str


def parse_segments(data: object) -> tuple[list[SegmentDefinition], list[SegmentError]]:
    """Check the YAML structure: `segments: [{name, description, where}, ...]` (or a bare list)."""
    items = data.get("segments") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return [], [SegmentError("<file>", "expected a list under 'segments'")]
    segments: list[SegmentDefinition] = []
    errors: list[SegmentError] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors.append(SegmentError(f"<segment {index}>", "each segment must be a mapping"))
            continue
        name = str(item.get("name") or f"<segment {index}>")
        where = item.get("where")
        unknown = sorted(set(item) - {"name", "description", "where"})
        if not NAME_RE.match(name):
            errors.append(SegmentError(name, f"name must match {NAME_RE.pattern}"))
        elif name in seen:
            errors.append(SegmentError(name, "duplicate segment name"))
        elif not isinstance(where, str) or not where.strip():
            errors.append(SegmentError(name, "'where' must be a non-empty SQL expression"))
        elif ";" in where:
            errors.append(SegmentError(name, "'where' must be a single expression (no ';')"))
        elif unknown:
            errors.append(SegmentError(name, f"unknown keys: {', '.join(unknown)}"))
        else:
            seen.add(name)
            segments.append(SegmentDefinition(name, str(item.get("description") or ""), where.strip()))
    return segments, errors


def load_segments(path: Path) -> tuple[list[SegmentDefinition], list[SegmentError]]:
    """Read and structurally validate a segments YAML file; a broken file is one error, not a raise."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return [], [SegmentError("<file>", f"cannot read {Path(path).name}: {exc}")]
    return parse_segments(data)


def segment_select(segment: SegmentDefinition, profiles: str) -> str:
    """SQL for the members of one segment of `profiles` (a table, view or parenthesized query);
    `as_of` is bound as the first parameter."""
    return (
        f"SELECT p.customer_id FROM {profiles} AS p "
        f"CROSS JOIN (SELECT CAST(? AS TIMESTAMP WITH TIME ZONE) AS as_of) AS _params "
        f"WHERE ({segment.where})"
    )


def explain_error(segment: SegmentDefinition, exc: Exception, columns: list[str]) -> SegmentError:
    """A short message that names the bad column or function (DuckDB's text is the fallback)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    missing = _MISSING_COLUMN_RE.search(str(exc))
    if missing:
        return SegmentError(
            segment.name,
            f"unknown column '{missing.group(1) or missing.group(2)}' (profile columns: {', '.join(columns)})",
        )
    function = _FUNCTION_RE.search(str(exc))
    if function:
        return SegmentError(segment.name, f"unknown function '{function.group(1)}'")
    # Run-time errors quote the offending value in many ways (a name that failed a cast, quoted or
    # bare), so only the error class and DuckDB's leading category survive, never its detail.
    category = text.split(":", 1)[0] if ":" in text else type(exc).__name__
    return SegmentError(
        segment.name,
        f"{mask_text(category)} while evaluating 'where': a value could not be converted or evaluated "
        "(value withheld)",
    )


def validate_segments(
    con: duckdb.DuckDBPyConnection,
    segments: list[SegmentDefinition],
    profiles: str,
    as_of: datetime,
) -> tuple[list[SegmentDefinition], list[SegmentError]]:
    """Bind every segment against the real profile columns (`LIMIT 0`); bad ones become errors."""
    columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {profiles} AS p").fetchall()]
    valid: list[SegmentDefinition] = []
    errors: list[SegmentError] = []
    for segment in segments:
        probe = (
            f"SELECT ({segment.where}) AS member FROM {profiles} AS p "
            f"CROSS JOIN (SELECT CAST(? AS TIMESTAMP WITH TIME ZONE) AS as_of) AS _params LIMIT 0"
        )
        try:
            con.execute(probe, [as_of])
            result_type = str(con.description[0][1]).upper()
        except duckdb.Error as exc:
            errors.append(explain_error(segment, exc, columns))
            continue
        if result_type != "BOOLEAN":
            errors.append(SegmentError(segment.name, f"'where' is {result_type}, not a boolean expression"))
            continue
        valid.append(segment)
    return valid, errors


