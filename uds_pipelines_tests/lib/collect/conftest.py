"""A real uvicorn server on 127.0.0.1 running the collector app in a thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from uds_pipelines.lib.collect.app import create_app
from uds_pipelines_tests.servers import serve_in_thread

WRITE_KEYS = {"wk_web": "website", "wk_server": "backend"}


@dataclass
class Collector:
    url: str
    data_dir: Path
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def inbox(self) -> Path:
        return self.data_dir / "inbox" / "events"

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool" / "events"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def inbox_messages(inbox: Path) -> list[dict]:
    """Every message in the inbox's complete files, in file-name order."""
    messages: list[dict] = []
    for path in sorted(inbox.glob("events_*.jsonl")):
        messages += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return messages


@pytest.fixture
def start_collector(tmp_path: Path) -> Iterator[Callable[..., Collector]]:
    started: list[Collector] = []

    def start(write_keys: dict[str, str] = WRITE_KEYS, **options) -> Collector:
        data_dir = tmp_path / "data"
        app = create_app(data_dir, write_keys, **options)
        url, server, thread = serve_in_thread(app, "collector")
        collector = Collector(url, data_dir, server, thread)
        started.append(collector)
        return collector

    yield start
    for collector in started:
        collector.stop()
