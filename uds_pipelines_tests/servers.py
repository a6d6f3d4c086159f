"""A real uvicorn server on 127.0.0.1 in a thread, for tests of the HTTP apps (receiver, collector)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import requests
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_healthy(
    argv: list[str], env: dict[str, str], port: int, name: str, timeout: float = 20
) -> subprocess.Popen:
    """Run a server command (`uds-webhooks`, `uds-collect`) and wait until its /healthz answers 200;
    its stderr is the error when it exits first."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else f"{name} exited")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{name} did not become healthy")
