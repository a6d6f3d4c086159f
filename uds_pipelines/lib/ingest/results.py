"""The common result of every file parser (see docs/ARCHITECTURE.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from uds_pipelines.lib import catalog
from uds_pipelines.lib.quarantine import QuarantineRecord

_COLUMNS = list(catalog.table("landed_consent").columns)


def empty_consents() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in _COLUMNS})
    frame["granted"] = frame["granted"].astype("boolean")
    frame["captured_at"] = pd.to_datetime(frame["captured_at"], utc=True)
    return frame


def consent_frame(rows: list[dict]) -> pd.DataFrame:
    """Consent statements as a frame with the `landed_consent` columns, typed."""
    if not rows:
        return empty_consents()
    frame = pd.DataFrame(rows)
    for column in _COLUMNS:
        if column not in frame:
            frame[column] = None
    frame = frame[_COLUMNS]
    frame["granted"] = frame["granted"].astype("boolean")
    frame["captured_at"] = pd.to_datetime(frame["captured_at"], utc=True, errors="coerce", format="mixed")
    return frame


@dataclass
class ParseResult:
    records: pd.DataFrame
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    consents: pd.DataFrame = field(default_factory=empty_consents)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    records_read: int = 0
    info: dict = field(default_factory=dict)

    @property
    def conserved(self) -> bool:
        """Every record read either landed or was quarantined."""
        return self.records_read == len(self.records) + len(self.quarantine)


def parse_guarded(
    parse, path, source_file: str, source: str, label: str, empty_records: pd.DataFrame, info: dict
) -> ParseResult:
    """Run `parse(path, source_file, info)`; any failure becomes one whole-file quarantine record
    (a parser bug must not stop the pipeline or lose the file)."""
    from uds_pipelines.lib.quarantine import decode_raw

    try:
        return parse(path, source_file, info)
    except OSError as exc:
        reason, raw = f"unreadable file: {type(exc).__name__}", None
    except Exception as exc:  # noqa: BLE001
        reason = f"{label} parser error ({type(exc).__name__}): file kept whole"
        try:
            raw = decode_raw(path.read_bytes())
        except OSError:
            raw = None
    info["error"] = reason
    return ParseResult(
        records=empty_records,
        quarantine=[QuarantineRecord(source, source_file, 0, reason, raw)],
        records_read=1,
        info=info,
    )
