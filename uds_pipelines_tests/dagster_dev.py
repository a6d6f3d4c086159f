"""Throwaway `dg dev` servers (the UI, daemon, sensors) for tests that need the real thing."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from uds_pipelines.lib.masking import mask_text

REPO = Path(__file__).resolve().parents[1]
# the instance config `scripts/start.sh` gives users, so the tests see the UI they see
LOCAL_YAML = REPO / "deploy" / "dagster.local.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DagsterDev:
    """One `dg dev` process group with its own DAGSTER_HOME."""

    proc: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 2000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return mask_text(text[-chars:])

    def wait_ready(self, timeout: float = 150.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dg dev exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/server_info", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"dg dev did not answer /server_info in {timeout:.0f}s:\n{self.log_tail()}")

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def stop(self) -> None:
        """Interrupt politely, then kill the whole group: run workers and code servers included."""
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)


def start_dagster_dev(cwd: Path, home: Path, env_extra: dict[str, str]) -> DagsterDev:
    """Start `dg dev -w workspace.yaml` in `cwd` as start.sh does; the caller waits for it and stops it."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(LOCAL_YAML, home / "dagster.yaml")
    # only the variables we choose: a developer's UDS_* or DAGSTER_* must not leak into the run
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UDS_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1", **env_extra})
    port = free_port()
    log_path = home / "dagster_dev.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "dg"),
                "dev",
                "-w",
                "workspace.yaml",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return DagsterDev(proc=proc, port=port, log_path=log_path)
