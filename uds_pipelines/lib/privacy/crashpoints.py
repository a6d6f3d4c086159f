"""A test hook for crash safety: `UDS_CRASH_AT=<point>` kills this process at that point.

The crash tests run the real `uds-run` with it set and check that the next run finishes the
work; unset (always, outside those tests) a crash point costs one environment lookup.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "UDS_CRASH_AT"
# The points erasure passes, in order; the kill test parametrizes over these names.
ERASURE_POINTS = (
    "after_in_progress",
    "after_suppression",
    "after_lake_rewrite",
    "after_exports",
    "after_warehouse",
    "before_audit",
    "after_audit",
)


def crash_point(name: str) -> None:
    """SIGKILL (no cleanup, no flush: as `kill -9`) this process when `UDS_CRASH_AT` names `name`."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
