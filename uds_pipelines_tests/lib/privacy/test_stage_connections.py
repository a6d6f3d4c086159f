"""The privacy stage's verification scan runs on a fresh DuckDB connection, the erasure's closed."""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import pytest

from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.privacy import stage


def test_the_erasure_connection_is_closed_before_the_scan_starts_on_its_own(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("UDS_DATA_DIR", str(tmp_path))
    settings = Settings.from_env()
    opened: list[duckdb.DuckDBPyConnection] = []
    real_for_settings = stage.connection.for_settings

    def for_settings(s):
        opened.append(real_for_settings(s))
        return opened[-1]

    erased = SimpleNamespace(identifiers=[("email", "ann@example.com")], event_ids=lambda kind: [])

    def handle_requests(*args, con, **kwargs):
        con.execute("SELECT 1").fetchall()  # the erasure works on the first connection
        return SimpleNamespace(erased=[erased])

    seen = {}

    def verify_erased(data_dir, warehouse_url, needles, con, storage_root=None):
        with pytest.raises(duckdb.ConnectionException):
            opened[0].execute("SELECT 1")  # closed before the scan
        seen["needles"], seen["open"] = needles, con.execute("SELECT 42").fetchone()[0]
        return []

    monkeypatch.setattr(stage.connection, "for_settings", for_settings)
    monkeypatch.setattr(stage, "pending_requests", lambda con, lake_dir: ["r1"])
    monkeypatch.setattr(stage, "resolve_pending", lambda con, lake_dir, pending, region: pending)
    monkeypatch.setattr(stage, "handle_requests", handle_requests)
    monkeypatch.setattr(stage, "verify_erased", verify_erased)
    result = stage.run_privacy_requests(settings, "run-1")
    assert seen == {"needles": {"ann@example.com"}, "open": 42}
    assert len(opened) == 2 and opened[0] is not opened[1]
    with pytest.raises(duckdb.ConnectionException):
        opened[1].execute("SELECT 1")  # and the scan's is closed after it
    assert result.pending == 1 and result.findings == []
