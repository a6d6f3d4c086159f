"""Fixtures for the browser tests: Debian chromium, throwaway `dg dev` servers, screenshots."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from uds_pipelines_tests.dagster_dev import REPO

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
# the UI answers slowly while the same machine runs pipelines; 5 s (the default) is too tight
expect.set_options(timeout=20_000)


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
