"""`uds-collect` as a real process: refuses to start without write keys, loses nothing under SIGKILL."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from uds_pipelines_tests.lib.collect.conftest import inbox_messages
from uds_pipelines_tests.servers import free_port, start_healthy

SCRIPT = Path(sys.executable).parent / "uds-collect"
# The console script once the package is installed; the same `main` through -m until then.
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "uds_pipelines.cli.collect"]
AUTH = {"Authorization": "Basic " + base64.b64encode(b"wk_kill:").decode()}


def _env(data_dir: Path, write_keys: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UDS_")}
    env["UDS_DATA_DIR"] = str(data_dir)
    if write_keys is not None:
        env["UDS_WRITE_KEYS"] = write_keys
    return env


def _start(data_dir: Path, port: int, *extra: str) -> subprocess.Popen:
    argv = [*COMMAND, "--port", str(port), "--log-level", "warning", *extra]
    return start_healthy(argv, _env(data_dir, "wk_other:ios,wk_kill:web"), port, "collector", timeout=20)


def test_missing_write_keys_refuse_to_start_naming_the_variable(tmp_path: Path) -> None:
    for write_keys in (None, " , "):
        result = subprocess.run(
            [*COMMAND, "--port", str(free_port())],
            env=_env(tmp_path / "data", write_keys),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2
        assert "UDS_WRITE_KEYS is not set" in result.stderr
    malformed = subprocess.run(
        [*COMMAND, "--port", str(free_port())],
        env=_env(tmp_path / "data", "k1:web,k1:ios"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert malformed.returncode == 2 and "UDS_WRITE_KEYS" in malformed.stderr
    assert not (tmp_path / "data" / "inbox").exists()


def test_sigkill_loses_no_acknowledged_message(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    inbox = data_dir / "inbox" / "events"
    spool_dir = data_dir / "spool" / "events"
    port = free_port()
    proc = _start(data_dir, port, "--spool-max-age", "3600", "--spool-max-bytes", "20000")
    acknowledged: list[list[str]] = []
    unanswered: list[list[str]] = []
    sent: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def batch_of(ids: list[str]) -> dict:
        return {"batch": [{"type": "track", "event": "Tick", "userId": "u", "messageId": i} for i in ids]}

    def poster(worker: int) -> None:
        session = requests.Session()
        for b in range(100_000):
            if stop.is_set():
                return
            ids = [f"k{worker}-{b}-{i}" for i in range(20)]
            with lock:
                sent.update(ids)
            try:
                response = session.post(
                    f"http://127.0.0.1:{port}/v1/batch", json=batch_of(ids), headers=AUTH, timeout=5
                )
            except requests.RequestException:
                with lock:
                    unanswered.append(ids)  # killed mid-request: the SDK keeps it and retries
                return
            with lock:
                (acknowledged if response.status_code == 200 else unanswered).append(ids)

    workers = [threading.Thread(target=poster, args=(w,)) for w in range(6)]
    for worker in workers:
        worker.start()
    try:
        deadline = time.monotonic() + 20
        while len(acknowledged) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
    acked = {i for ids in acknowledged for i in ids}
    assert len(acknowledged) >= 60
    assert unanswered, "the kill cut requests in flight"
    spooled = list(spool_dir.glob("spool-*.jsonl"))
    assert len(spooled) <= 1
    published_before = {m["messageId"] for m in inbox_messages(inbox)}
    assert published_before and published_before <= sent, "size rotation ran before the kill"
    # A torn write the dead process never acknowledged must not reach the inbox.
    torn_target = spooled[0] if spooled else spool_dir / "spool-1-dead.jsonl"
    with open(torn_target, "ab") as handle:
        handle.write(b'{"type":"track","messageId":"torn","sour')

    proc = _start(data_dir, port, "--spool-max-age", "3600")
    try:
        ids = [m["messageId"] for m in inbox_messages(inbox)]
        assert len(ids) == len(set(ids)), "recovery published nothing twice"
        assert acked <= set(ids) <= sent
        assert "torn" not in ids
        assert [p.name for p in inbox.iterdir() if not p.name.startswith("events_")] == []
        assert list(spool_dir.glob("spool-*.jsonl")) == []
        # The SDKs retry what was never answered; recovered ids are remembered, so nothing doubles.
        session = requests.Session()
        for batch in unanswered:
            assert session.post(
                f"http://127.0.0.1:{port}/v1/batch", json=batch_of(batch), headers=AUTH, timeout=5
            ).ok
    finally:
        proc.send_signal(signal.SIGTERM)  # graceful: publishes the spool
        proc.wait(timeout=20)
    ids = [m["messageId"] for m in inbox_messages(inbox)]
    assert len(ids) == len(set(ids))
    assert set(ids) == sent, "every message sent is stored exactly once after the retries"
    assert list(spool_dir.glob("spool-*.jsonl")) == []
