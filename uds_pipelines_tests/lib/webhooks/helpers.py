"""Small helpers shared by the webhook tests."""

from __future__ import annotations

import json
from pathlib import Path


def inbox_events(inbox: Path) -> list[dict]:
    """Every event in the inbox's JSONL files, in file-name order."""
    events: list[dict] = []
    for path in sorted(inbox.glob("*.jsonl")):
        events += [json.loads(line) for line in path.read_text().splitlines()]
    return events
