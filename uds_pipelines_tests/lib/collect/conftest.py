"""A real uvicorn server on 127.0.0.1 running the collector app in a thread."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from uds_pipelines.lib.collect.app import create_app

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
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("collector did not start")
            time.sleep(0.01)
        collector = Collector(f"http://127.0.0.1:{port}", data_dir, server, thread)
        started.append(collector)
        return collector

    yield start
    for collector in started:
        collector.stop()
