"""A real uvicorn server on 127.0.0.1 running the receiver app in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from uds_pipelines.lib.webhooks.app import create_app


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
                raise RuntimeError("receiver did not start")
            time.sleep(0.01)
        receiver = Receiver(f"http://127.0.0.1:{port}", data_dir, server, thread)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()
