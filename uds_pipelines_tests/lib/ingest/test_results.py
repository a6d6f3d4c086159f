"""A parser bug or an unreadable file becomes one whole-file quarantine record, never an exception."""

import pandas as pd

from uds_pipelines.lib.ingest.results import parse_guarded


def test_parser_bug_keeps_the_file_whole_in_quarantine(tmp_path):
    path = tmp_path / "payload.json"
    path.write_bytes(b'{"email": "a@example.com"}')

    def buggy(p, source_file, info):
        raise KeyError("boom")

    result = parse_guarded(buggy, path, "payload.json", "form", "form", pd.DataFrame(), {})
    assert result.conserved and result.records.empty
    (record,) = result.quarantine
    assert (record.source_file, record.position) == ("payload.json", 0)
    assert record.reason == "form parser error (KeyError): file kept whole"
    assert record.raw == '{"email": "a@example.com"}'


def test_unreadable_file_is_quarantined_without_raw(tmp_path):
    def unreadable(p, source_file, info):
        raise PermissionError("denied")

    result = parse_guarded(unreadable, tmp_path / "x.json", "x.json", "privacy", "privacy", pd.DataFrame(), {})
    assert [(q.reason, q.raw) for q in result.quarantine] == [("unreadable file: PermissionError", None)]
    assert result.info["error"] == "unreadable file: PermissionError"
