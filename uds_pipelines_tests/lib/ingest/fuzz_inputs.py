"""Hypothesis strategies for hostile inbox files: real samples, mutated, plus generated JSON.

Seeds are the bundled samples (`data/samples/inbox/`) and the real payloads and exports in
`uds_pipelines_tests/realdata/` (Stripe fixtures, HubSpot/Typeform/Webflow/Netlify payloads,
Qualtrics, SurveyMonkey and Typeform exports). Large JSONL seeds are cut to a few lines so each
example stays fast; the mutations are the ones an adversarial run used: truncation, deep nesting,
duplicate keys, huge numbers, blank lines, random bytes, byte order marks, NULs, lone surrogates.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

ROOT = Path(__file__).parents[3]
SAMPLES = ROOT / "data" / "samples" / "inbox"
REALDATA = ROOT / "uds_pipelines_tests" / "realdata"
SEED_LINES = 6  # lines kept from each JSONL seed


def fuzz_settings(max_examples: int) -> settings:
    """Deterministic and bounded: a fixed sequence of examples, no example database, no deadline
    (DuckDB's first query in a process is slower than the rest)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


FUZZ = fuzz_settings(60)  # parsing alone: milliseconds an example
LANDING_FUZZ = fuzz_settings(25)  # parse, write Parquet, ledger, conservation query: ~0.2 s an example


def _seed(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix in {".jsonl", ".csv"}:
        data = b"".join(data.splitlines(keepends=True)[:SEED_LINES])
    return data


def seeds(*patterns: str) -> list[bytes]:
    """Seed contents for glob patterns under the samples and realdata folders (sorted, so stable)."""
    paths = sorted({p for pattern in patterns for base in (SAMPLES, REALDATA) for p in base.glob(pattern)})
    assert paths, patterns  # a renamed sample must not silently empty the fuzz corpus
    return [_seed(p) for p in paths]


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_RARE = ["bom", "nul", "surrogate", "json"]
HOSTILE_NUMBERS = [
    b"1e400",
    b"-1E+0309",
    b"9" * 400,
    b"9" * 5000,
    b"NaN",
    b"-Infinity",
    b"1e-400",
    b"0.5e308",
]
_MEMBER = re.compile(rb'"([A-Za-z_]{1,30})"\s*:\s*')
_DIGITS = re.compile(rb"(?<![\w.])-?\d+(?![\w.])")


@st.composite
def _position(draw, data: bytes) -> int:
    return draw(st.integers(0, len(data)))


@st.composite
def mutate_once(draw, data: bytes, kind: str | None = None) -> bytes:
    # Deep nesting and hostile numbers are listed twice: they are the defects this suite guards.
    kind = kind or draw(
        st.sampled_from(["deep", "number"] * 2 + ["truncate", "dup_key", "blank", "bytes"] + _RARE)
    )
    at = draw(_position(data))
    if kind == "truncate":
        return data[:at]
    if kind == "deep":
        depth = draw(st.sampled_from([1100, 100_000]))  # past Python's recursion limit either way
        opener = draw(st.sampled_from([b"[", b'{"a":']))
        closer = draw(st.sampled_from([b"", b"]" if opener == b"[" else b"}"]))
        return data[:at] + opener * depth + closer * depth + data[at:]
    if kind == "dup_key":
        members = list(_MEMBER.finditer(data))
        if not members:
            return data
        member = draw(st.sampled_from(members))
        value = json.dumps(draw(JSON_VALUES)).encode()
        return data[: member.start()] + member.group(0) + value + b", " + data[member.start() :]
    if kind == "number":
        # Replaces a number of the seed, or adds a member holding one (a duplicate key when the
        # name exists: the hostile value comes first, so it is the one every reader keeps).
        hostile = draw(st.sampled_from(HOSTILE_NUMBERS))
        numbers = list(_DIGITS.finditer(data))
        members = list(_MEMBER.finditer(data))
        if numbers and (not members or draw(st.booleans())):
            number = draw(st.sampled_from(numbers))
            return data[: number.start()] + hostile + data[number.end() :]
        if not members:
            return data
        member = draw(st.sampled_from(members))
        return data[: member.start()] + member.group(0) + hostile + b", " + data[member.start() :]
    if kind == "blank":
        return data[:at] + draw(st.sampled_from([b"\n\n", b"\n  \t\n", b"\r\n\r\n"])) + data[at:]
    if kind == "bytes":
        return data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    if kind == "bom":
        return draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xef\xbb\xbf\xef\xbb\xbf"])) + data
    if kind == "nul":
        return data[:at] + b"\x00" + data[at:]
    if kind == "surrogate":
        return data[:at] + b'"\\ud800"' + data[at:]
    return data[:at] + json.dumps(draw(JSON_VALUES)).encode() + b"\n" + data[at:]


@st.composite
def hostile_files(draw, seed_files: list[bytes]) -> bytes:
    """A seed with one to three mutations, a generated JSON document, or only blank lines."""
    shape = draw(st.sampled_from(["mutated", "mutated", "mutated", "generated", "blank"]))
    if shape == "generated":
        values = draw(st.lists(JSON_VALUES, min_size=1, max_size=4))
        return b"\n".join(json.dumps(v).encode() for v in values)
    if shape == "blank":
        return b"\n \n\r\n" * draw(st.integers(1, 3))
    data = draw(st.sampled_from(seed_files))
    for _ in range(draw(st.integers(1, 3))):
        data = draw(mutate_once(data))
    return data


@st.composite
def nested_or_numeric(draw, seed_files: list[bytes]) -> bytes:
    """A seed with deep nesting or a hostile number for sure, then up to two more mutations."""
    data = draw(st.sampled_from(seed_files))
    data = draw(mutate_once(data, kind=draw(st.sampled_from(["deep", "number"]))))
    for _ in range(draw(st.integers(0, 2))):
        data = draw(mutate_once(data))
    return data
