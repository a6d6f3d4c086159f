"""A parser for `test_parse_ahead.py` that worker processes can import (spawned workers import
functions by module name, so it cannot live in the test file's fixtures)."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pandas as pd

from uds_pipelines.lib.ingest.results import ParseResult


def parse_or_die(path: Path) -> ParseResult:
    """One record per line; a worker given a file named `die-*` exits at once, as a killed one would."""
    in_worker = multiprocessing.parent_process() is not None
    if in_worker and path.name.startswith("die-"):
        os._exit(1)
    lines = path.read_text().splitlines()
    where = "worker" if in_worker else "landing process"
    return ParseResult(pd.DataFrame({"line": lines}), records_read=len(lines), info={"parsed_in": where})
