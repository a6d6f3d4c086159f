"""Fixtures for the browser tests: Debian chromium, throwaway `dg dev` servers, screenshots."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from uds_pipelines.lib.masking import mask_text

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "ui"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# the instance config `scripts/start.sh` gives users, so the tests see the UI they see
LOCAL_YAML = REPO / "deploy" / "dagster.local.yaml"
# the UI answers slowly while the same machine runs pipelines; 5 s (the default) is too tight
expect.set_options(timeout=20_000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chromium_or_reason() -> tuple[str | None, str]:
    path = os.environ.get("UDS_CHROMIUM", "/usr/bin/chromium")
    if os.access(path, os.X_OK):
        return path, ""
    if path != "/usr/bin/chromium":
        return None, f"UDS_CHROMIUM={path} is not an executable file"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None, f"{path} is missing and cannot be installed here (needs root and apt-get)"
    # the same installer CI sources, so a developer's root container behaves like CI
    script = "source .ci/browser.sh && ensure_chromium"
    done = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=900)
    if os.access(path, os.X_OK):
        return path, ""
    return None, f"{path} is missing and `ensure_chromium` could not install it: {done.stdout[-300:]}"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path, reason = _chromium_or_reason()
    if path is None:
        print(f"skipping browser tests: {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def new_page(browser: Browser) -> Page:
    """A roomy page (so virtualised lists render every row) in a fresh context, as a new user's."""
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    page.set_default_timeout(30_000)
    return page


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed browser test, keep a screenshot of what the page showed at that moment."""
    outcome = yield
    report = outcome.get_result()
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and isinstance(page, Page):
        try:
            screenshot(page, f"failed_{item.name}")
        except Exception as exc:  # the page may already be gone; the test failure matters more
            print(f"no failure screenshot for {item.name}: {exc}")
