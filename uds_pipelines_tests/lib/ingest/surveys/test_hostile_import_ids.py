"""The Qualtrics ImportId row decodes through the shared guarded decode and its policies."""

from __future__ import annotations

from pathlib import Path

from uds_pipelines.lib.ingest.surveys import parse_survey_file

SAMPLE = Path(__file__).parents[4] / "data" / "samples" / "inbox" / "surveys" / "qualtrics_3row_001.csv"
DATE_CELLS = ("startDate", "endDate", "recordedDate")


def _with_import_cells(tmp_path: Path, name: str, extra: str) -> Path:
    """The real sample with `extra` JSON members added to the ImportId cells of its date columns."""
    text = SAMPLE.read_text(encoding="utf-8")
    for column in DATE_CELLS:
        cell = f'"{{""ImportId"":""{column}""}}"'
        assert cell in text
        text = text.replace(cell, f'"{{""ImportId"":""{column}""{extra}}}"', 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _submitted(path: Path) -> list:
    result = parse_survey_file(path)
    assert result.conserved and len(result.records) > 0
    return list(result.records["submitted_at"])


def test_duplicate_time_zone_keys_keep_the_first(tmp_path):
    denver = _submitted(_with_import_cells(tmp_path, "denver.csv", ',""timeZone"":""America/Denver""'))
    tokyo = _submitted(_with_import_cells(tmp_path, "tokyo.csv", ',""timeZone"":""Asia/Tokyo""'))
    both = ',""timeZone"":""America/Denver"",""timeZone"":""Asia/Tokyo""'
    assert denver != tokyo  # the zone matters, so the duplicate's winner is visible
    assert _submitted(_with_import_cells(tmp_path, "dup.csv", both)) == denver


def test_hostile_import_cells_read_as_no_import_id(tmp_path):
    plain = _submitted(SAMPLE)
    for name, extra in {
        "deep.csv": ',""x"":' + "[" * 100_000,
        "big.csv": ',""timeZone"":""America/Denver"",""x"":1e400',
    }.items():
        assert _submitted(_with_import_cells(tmp_path, name, extra)) == plain, name
