"""A real uvicorn server on 127.0.0.1 in a thread, for tests of the HTTP apps (receiver, collector)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn


def serve_in_thread(app, name: str) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Start `app` on a free loopback port (lifespan on); returns its URL, server and thread once it
    accepts connections. Stop it with `server.should_exit = True` and `thread.join()`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}", server, thread
