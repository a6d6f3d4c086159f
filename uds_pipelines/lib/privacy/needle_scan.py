"""Rows holding a needle, found by one Aho-Corasick pass over an Arrow column's bytes.

The verification scan reads every text byte under the data folder. A DuckDB regex (an alternation
of every needle, or a tokenizer feeding a join) runs at about 100 MB/s; an automaton of all the
needles runs over a column's whole value buffer at about 500 MB/s, releases the GIL (so columns
are scanned on several threads), and its cost barely depends on how many needles it holds.

The fast pass is leftmost-longest and non-overlapping: it reports a match wherever any needle
occurs, but one match can hide another (a longer needle that fails its word boundary, or a match
that runs from one value into the next in the shared buffer). So every row the fast pass touches is
checked again alone with every overlapping occurrence, against the word boundaries of
`needles.needle_pattern`: a row counts exactly when that bounded pattern would match it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import duckdb
import numpy as np
import pyarrow as pa
from ahocorasick_rs import BytesAhoCorasick, Implementation, MatchKind

T = TypeVar("T")

# Bytes that may not precede a needle (`needles._LEFT`) and that may not follow it (`_RIGHT`,
# except a '.' that ends the text or is followed by something other than a letter or digit).
_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789")
_LEFT_CLASS = _ALNUM | frozenset(b"_.%+'-")
_RIGHT_CLASS = _ALNUM | frozenset(b"_.-")
_DOT = ord(".")
# A DFA is the fastest automaton but its size grows with the needles: above this many, the
# library's own choice (a contiguous NFA) keeps memory small at a modest cost in speed.
DFA_MAX_NEEDLES = 20_000
# Rows decoded at a time; each batch is scanned on a worker thread while DuckDB decodes the next.
# Scanning the 2.2 GB landed Stripe file of a 10M-event lake took about 1,170 MB of memory in
# batches of 32,768 rows and 760 MB in batches of 8,192, no slower.
SCAN_BATCH_ROWS = 8_192
SCAN_THREADS = max(1, min(4, os.cpu_count() or 1))
# Needles that never match (bytes 0xF8 to 0xFF occur in no UTF-8 text), added to the fast pass: with
# at most three distinct first bytes among the needles ("u", "c", "+": common letters) the library
# puts a first-byte prefilter in front of the automaton that stops on nearly every row and runs at
# half the automaton's own speed; four more first bytes switch it off.
_NEVER = [bytes([first, 0xFF]) for first in range(0xF8, 0xFC)]


def bounded_at(text: bytes, start: int, end: int) -> bool:
    """Whether the occurrence text[start:end] has the word boundaries `needle_pattern` demands."""
    if start > 0 and text[start - 1] in _LEFT_CLASS:
        return False
    if end == len(text):
        return True
    after = text[end]
    if after not in _RIGHT_CLASS:
        return True
    return after == _DOT and (end + 1 == len(text) or text[end + 1] not in _ALNUM)


def lowered_sql(text: str) -> str:
    """`text` ready for the scanner: values with non-ASCII characters lower-cased by DuckDB (the
    scanner lowers ASCII letters itself, faster than DuckDB's `lower` copies whole values)."""
    return f"(CASE WHEN strlen({text}) = length({text}) THEN {text} ELSE lower({text}) END)"


def ascii_lower(raw: np.ndarray) -> np.ndarray:
    """A copy of UTF-8 bytes with A-Z lowered, in two arrays the size of `raw` at most."""
    out = raw - np.uint8(65)  # bytes below "A" wrap round to 191 and up
    upper = out < 26
    np.multiply(upper, np.uint8(32), out=out)
    return np.add(raw, out, out=out)


class NeedleScanner:
    """Counts the values of text arrays that hold one of `needles` (lower-cased), ignoring case.

    ASCII letters are lowered here; values with other characters must come lower-cased, as
    `lowered_sql` or `str.lower` give them (Unicode lowering can turn a letter into ASCII)."""

    def __init__(self, needles: list[str]):
        encoded = sorted({n.encode() for n in needles if n})
        self.empty = not encoded
        if self.empty:
            return
        implementation = Implementation.DFA if len(encoded) <= DFA_MAX_NEEDLES else None
        self._needles = encoded
        self._fast = BytesAhoCorasick(encoded + _NEVER, MatchKind.LeftmostLongest, implementation)
        self._every = BytesAhoCorasick(encoded, MatchKind.Standard)

    def found_in(self, text: bytes, bounded: bool = True) -> set[str]:
        """The needles one value holds (on word boundaries when `bounded`)."""
        if self.empty:
            return set()
        matches = self._every.find_matches_as_indexes(text, overlapping=True)
        return {
            self._needles[i].decode()
            for i, start, end in matches
            if not bounded or bounded_at(text, start, end)
        }

    def rows(self, values: pa.Array | pa.ChunkedArray, bounded: bool = True) -> np.ndarray:
        """Positions of the values that hold a needle, ascending."""
        return np.asarray([row for row, _ in self.hits(values, bounded)], dtype=np.int64)

    def text_rows(self, texts: list[str | None], bounded: bool = True) -> np.ndarray:
        """Positions of the Python strings that hold a needle, ascending (lowered here)."""
        return self.rows(pa.array([None if t is None else t.lower() for t in texts], pa.string()), bounded)

    def hits(self, values: pa.Array | pa.ChunkedArray, bounded: bool = True) -> list[tuple[int, set[str]]]:
        """(position, needles found) of the values that hold a needle, by position."""
        if isinstance(values, pa.ChunkedArray):
            found, offset = [], 0
            for chunk in values.chunks:
                found += [(row + offset, needles) for row, needles in self.hits(chunk, bounded)]
                offset += len(chunk)
            return found
        if self.empty or len(values) == 0:
            return []
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            raise TypeError(f"needle scan needs text values, got {values.type}")
        data = values.buffers()[2]
        if data is None:
            return []
        width = np.int64 if pa.types.is_large_string(values.type) else np.int32
        offsets = np.frombuffer(values.buffers()[1], width)[values.offset : values.offset + len(values) + 1]
        text = ascii_lower(np.frombuffer(data, np.uint8)[offsets[0] : offsets[-1]])
        offsets = offsets - offsets[0]
        spans = np.asarray(
            [(start, end) for _, start, end in self._fast.find_matches_as_indexes(memoryview(text))],
            dtype=np.int64,
        ).reshape(-1, 2)
        if len(spans) == 0:
            return []
        # Every value a match touches is a candidate: one that runs on from one value into the next
        # may hide a needle at the start of the second, and the exact check looks at each value alone.
        first = np.searchsorted(offsets, spans[:, 0], side="right") - 1
        last = np.searchsorted(offsets, spans[:, 1] - 1, side="right") - 1
        counts = last - first + 1
        steps = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        candidates = np.unique(np.repeat(first, counts) + steps)
        candidates = candidates[(candidates >= 0) & (candidates < len(values))]
        found = (
            (int(row), self.found_in(text[offsets[row] : offsets[row + 1]].tobytes(), bounded))
            for row in candidates
        )
        return [(row, needles) for row, needles in found if needles]

    def count(self, values: pa.Array | pa.ChunkedArray, bounded: bool = True) -> int:
        return len(self.hits(values, bounded))


def scan_batches(
    con: duckdb.DuckDBPyConnection, query: str, work: Callable[[pa.RecordBatch], T]
) -> Iterator[T]:
    """`work` applied to each Arrow batch of `query`, in order, on worker threads while DuckDB decodes
    the next batches; at most a few batches are held at a time, so memory stays flat on any size."""
    reader = con.sql(query).to_arrow_reader(SCAN_BATCH_ROWS)
    pending: deque[Future[T]] = deque()
    with ThreadPoolExecutor(SCAN_THREADS) as pool:
        for batch in reader:
            pending.append(pool.submit(work, batch))
            while len(pending) > SCAN_THREADS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
