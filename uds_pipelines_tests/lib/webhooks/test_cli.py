"""`uds-webhooks` as a real process: refuses to start without a secret, survives SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from uds_pipelines.lib.webhooks.signature import sign_header
from uds_pipelines_tests.lib.webhooks.helpers import inbox_events
from uds_pipelines_tests.servers import free_port, start_healthy

SCRIPT = Path(sys.executable).parent / "uds-webhooks"
SECRET = "whsec_cli_test"


def _env(data_dir: Path, secret: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UDS_")}
    env["UDS_DATA_DIR"] = str(data_dir)
    if secret is not None:
        env["UDS_STRIPE_WEBHOOK_SECRET"] = secret
    return env


def _start(data_dir: Path, port: int, *extra: str) -> subprocess.Popen:
    argv = [str(SCRIPT), "--port", str(port), "--log-level", "warning", *extra]
    return start_healthy(argv, _env(data_dir, f"whsec_other,{SECRET}"), port, "receiver", timeout=15)


def test_missing_secret_refuses_to_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(SCRIPT), "--port", str(free_port())],
        env=_env(tmp_path / "data", None),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "UDS_STRIPE_WEBHOOK_SECRET" in result.stderr
    assert not (tmp_path / "data" / "inbox").exists()


def test_sigkill_loses_no_acknowledged_event(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    inbox = data_dir / "inbox" / "stripe"
    port = free_port()
    proc = _start(data_dir, port, "--spool-max-age", "3600", "--spool-max-bytes", "2000")
    acknowledged: list[str] = []
    sent: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def poster(worker: int) -> None:
        session = requests.Session()
        for i in range(10_000):
            if stop.is_set():
                return
            event_id = f"evt_kill_{worker}_{i}"
            body = json.dumps({"id": event_id, "object": "event", "type": "charge.succeeded"}).encode()
            with lock:
                sent.add(event_id)
            try:
                response = session.post(
                    f"http://127.0.0.1:{port}/webhooks/stripe",
                    data=body,
                    headers={"Stripe-Signature": sign_header(body, SECRET)},
                    timeout=5,
                )
            except requests.RequestException:
                return  # the receiver died mid-request: not acknowledged
            if response.status_code == 200:
                with lock:
                    acknowledged.append(event_id)

    # Kill while posts are in flight, so some deliveries are cut between write and answer.
    workers = [threading.Thread(target=poster, args=(w,)) for w in range(6)]
    for worker in workers:
        worker.start()
    try:
        deadline = time.monotonic() + 10
        while len(acknowledged) < 80 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
    assert len(acknowledged) >= 80
    spool_dir = data_dir / "spool" / "stripe"
    spooled = list(spool_dir.glob("spool-*.jsonl"))
    assert len(spooled) <= 1
    before_restart = {e["id"] for e in inbox_events(inbox)}
    # size rotation ran; whether the last acknowledged events are still spooled or already rotated
    # depends on when the kill lands (under load the receiver can rotate past the last answer read)
    assert before_restart, "size rotation ran before the kill"
    # A torn write the dead process never acknowledged must not reach the inbox.
    torn_target = spooled[0] if spooled else spool_dir / "spool-1-dead.jsonl"
    with open(torn_target, "ab") as handle:
        handle.write(b'{"id":"evt_torn","obj')

    proc = _start(data_dir, port, "--spool-max-age", "3600")
    try:
        ids = [e["id"] for e in inbox_events(inbox)]
        assert len(ids) == len(set(ids))
        assert set(acknowledged) <= set(ids) <= sent
        assert "evt_torn" not in ids
        names = [p.name for p in inbox.iterdir()]
        assert all(n.startswith("webhook-") and n.endswith(".jsonl") for n in names), names
        assert list((data_dir / "spool" / "stripe").glob("spool-*.jsonl")) == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)
