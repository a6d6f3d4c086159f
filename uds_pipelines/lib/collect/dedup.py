"""A bounded window of recent message ids per source, for de-duplicating SDK retries.

Segment's SDKs retry a batch whose answer they did not get (timeout, 5xx, a dropped connection)
with the same `messageId`s. The endpoint drops ids it stored recently; how far back it remembers
is bounded, so the window is a first line only: landing de-duplicates exactly on
(`source`, `messageId`) over the whole lake.
"""

from __future__ import annotations

from collections import OrderedDict

DEFAULT_WINDOW = 100_000


class DedupWindow:
    """The last `capacity` message ids of each source; not thread-safe (the spool's lock guards it)."""

    def __init__(self, capacity: int = DEFAULT_WINDOW) -> None:
        if capacity < 0:
            raise ValueError("the de-duplication window cannot be negative")
        self.capacity = capacity
        self._ids: dict[str, OrderedDict[str, None]] = {}

    def add(self, source: str, message_id: str) -> bool:
        """Remember the id; False when it is already in the window (a duplicate)."""
        if self.capacity == 0:
            return True
        ids = self._ids.setdefault(source, OrderedDict())
        if message_id in ids:
            return False
        ids[message_id] = None
        if len(ids) > self.capacity:
            ids.popitem(last=False)
        return True

    def forget(self, source: str, message_id: str) -> None:
        """Drop an id whose message did not become durable, so its retry is stored."""
        ids = self._ids.get(source)
        if ids is not None:
            ids.pop(message_id, None)

    def __contains__(self, key: tuple[str, str]) -> bool:
        ids = self._ids.get(key[0])
        return ids is not None and key[1] in ids

    def __len__(self) -> int:
        return sum(len(ids) for ids in self._ids.values())
