"""A phone task for `test_phone_table.py` that worker processes can import (spawned workers import
functions by module name, so it cannot live in the test file)."""

from __future__ import annotations

import multiprocessing
import os

from uds_pipelines.lib.normalize.phone_table import normalize_chunk


def normalize_or_die(phones: list[str], regions: list[str | None], default_region: str) -> list[list]:
    """`normalize_chunk`, except that a worker given the phone "die" exits at once, as a killed one would."""
    if multiprocessing.parent_process() is not None and "die" in phones:
        os._exit(1)
    return normalize_chunk(phones, regions, default_region)


def process_of(phones: list[str], regions: list[str | None], default_region: str) -> list[list]:
    """The id of the process that got each phone, as its "reason"."""
    return [[None] * len(phones), [str(os.getpid())] * len(phones)]
