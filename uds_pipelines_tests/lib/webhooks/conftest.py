"""A real uvicorn server on 127.0.0.1 running the receiver app in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from uds_pipelines.lib.webhooks.app import create_app
from uds_pipelines_tests.servers import serve_in_thread


@dataclass
class Receiver:
    url: str
    data_dir: Path
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def inbox(self) -> Path:
        return self.data_dir / "inbox" / "stripe"

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool" / "stripe"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def start_receiver(tmp_path: Path) -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(secrets: tuple[str, ...] = ("whsec_test",), **options) -> Receiver:
        data_dir = tmp_path / "data"
        app = create_app(data_dir, secrets, **options)
        url, server, thread = serve_in_thread(app, "receiver")
        receiver = Receiver(url, data_dir, server, thread)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()
