"""Landing parsed inbox files (surveys, forms, privacy requests) into the lake, once per content."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from uds_pipelines.lib import catalog, lake_views
from uds_pipelines.lib.config import DEFAULT_EXTERNAL_ID_FIELDS
from uds_pipelines.lib.ingest import inbox
from uds_pipelines.lib.ingest.inbox_landing import (
    ClaimedFile,
    LandedBatch,
    LandingSummary,
    file_row,
    land_inbox_files,
)
from uds_pipelines.lib.ingest.parse_ahead import ParseAhead
from uds_pipelines.lib.ingest.results import ParseResult
from uds_pipelines.lib.quarantine import QuarantineRecord, write_quarantine

log = logging.getLogger(__name__)

Parser = Callable[..., ParseResult]


@dataclass(frozen=True)
class SourceSpec:
    """Where one inbox source lands: its main table, and tables for the parser's extras."""

    source: str  # inbox folder and quarantine `source`
    parse: Parser
    records_table: str  # catalog table name
    extra_tables: dict[str, str] = field(default_factory=dict)  # parser extra -> catalog table name
    # The parser copies an app's user id field to `external_id` and takes the field names
    # (`external_id_fields`, from `Settings`) as an argument: surveys and forms.
    reads_external_ids: bool = False

    @property
    def record_source(self) -> str:
        """The singular name used in quarantine rows and the identity map (`survey`, `form`)."""
        return {"surveys": "survey", "forms": "form"}.get(self.source, self.source)


def to_arrow(frame: pd.DataFrame, schema: Mapping[str, pa.DataType] | pa.Schema) -> pa.Table:
    """Cast a parser frame to the table's schema: missing columns become nulls, extras are kept."""
    if isinstance(schema, pa.Schema):
        schema = dict(zip(schema.names, schema.types, strict=True))
    frame = frame.copy()
    for column in schema:
        if column not in frame:
            frame[column] = None
    arrays, names = [], []
    for column in list(schema) + [c for c in frame.columns if c not in schema]:
        values = frame[column]
        target = schema.get(column, pa.string())
        if pa.types.is_timestamp(target):
            values = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
        elif pa.types.is_string(target):
            values = values.map(
                lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
            )
        elif pa.types.is_integer(target):
            values = pd.to_numeric(values, errors="coerce").astype("Int64")
        elif pa.types.is_boolean(target):
            values = values.astype("boolean")
        arrays.append(pa.array(values, type=target, from_pandas=True))
        names.append(column)
    return pa.Table.from_arrays(arrays, names=names)


Gate = Callable[[pd.DataFrame, str], tuple[pd.DataFrame, list[QuarantineRecord]]]


def land_files(
    spec: SourceSpec,
    paths: list[Path],
    lake_dir: Path,
    gate: Gate | None = None,
    external_id_fields: Sequence[str] = DEFAULT_EXTERNAL_ID_FIELDS,
) -> LandingSummary:
    """Parse and land each file through the shared inbox flow, one file at a time (a backlog is
    parsed ahead on every core: `parse_ahead.py`)."""
    prepare = functools.partial(_prepare, spec, external_id_fields=tuple(external_id_fields))
    with ParseAhead(prepare) as parsed:
        land = functools.partial(_land_parsed, spec, lake_dir, gate, parsed.result)
        start = functools.partial(_start_parsing, parsed)
        return land_inbox_files(spec.source, paths, lake_dir, land, claimed_ahead=start)


@dataclass
class PreparedFile:
    """A file's parse and its rows as the catalog tables' Arrow tables (None: no rows)."""

    result: ParseResult
    tables: dict[str, pa.Table | None]


def _prepare(spec: SourceSpec, path: Path, external_id_fields: Sequence[str]) -> PreparedFile:
    """Parse and convert: all the per-record work of landing a file, done where it was parsed."""
    return _converted(spec, _parse_safely(spec, path, external_id_fields))


def _converted(spec: SourceSpec, result: ParseResult) -> PreparedFile:
    frames = {spec.records_table: result.records, "landed_consent": result.consents}
    frames |= {table: result.extra.get(extra) for extra, table in spec.extra_tables.items()}
    tables = {
        table: to_arrow(frame, catalog.table(table).schema) if frame is not None and len(frame) else None
        for table, frame in frames.items()
    }
    return PreparedFile(result, tables)


def _start_parsing(parsed: ParseAhead, claimed: list[ClaimedFile]) -> None:
    parsed.start([c.path for c in claimed])


def _land_parsed(
    spec: SourceSpec,
    lake_dir: Path,
    gate: Gate | None,
    prepared_for: Callable[[Path], PreparedFile],
    batch: list[ClaimedFile],
) -> LandedBatch:
    (claimed,) = batch
    path, sha = claimed.path, claimed.sha256
    prepared = prepared_for(path)
    result = prepared.result
    if gate is not None and len(result.records):
        gated = _apply_gate(result, gate, path.name)
        if gated is not result:  # someone's records were dropped: convert what is left
            prepared, result = _converted(spec, gated), gated
    name = f"{spec.source}-{sha[:24]}.parquet"
    for table, rows in prepared.tables.items():
        if rows is not None and rows.num_rows:
            lake_views.write_arrow(lake_dir, table, rows, batch_name=name)
    quarantined = [dataclasses.replace(q, source=spec.record_source) for q in result.quarantine]
    write_quarantine(quarantined, lake_dir, batch_name=name)
    row = file_row(
        path.name, sha, claimed.size_bytes, result.records_read, len(result.records), len(result.quarantine)
    )
    preview = result.records.head(10) if len(result.records) else None
    return LandedBatch([row | {"info": result.info}], preview)


def _apply_gate(result: ParseResult, gate: Gate, source_file: str) -> ParseResult:
    """Drop records of suppressed people, with everything that hangs off them (answers, consents)."""
    kept, dropped = gate(result.records, source_file=source_file)
    if not dropped:
        return result
    id_column = result.records.columns[0]
    gone = set(result.records[id_column]) - set(kept[id_column])
    extra = {name: frame[~frame[id_column].isin(gone)] for name, frame in result.extra.items()}
    consents = result.consents[~result.consents["source_record"].isin(gone)]
    return dataclasses.replace(
        result, records=kept, extra=extra, consents=consents, quarantine=result.quarantine + dropped
    )


def _parse_safely(spec: SourceSpec, path: Path, external_id_fields: Sequence[str]) -> ParseResult:
    """Parsers promise not to raise; if one does anyway, the file is quarantined whole, not lost."""
    if not inbox.is_accepted(spec.source, path.name):
        reason = f"unsupported file type {path.suffix or '(none)'} for inbox/{spec.source}"
        raw = path.read_bytes().decode("utf-8", errors="backslashreplace")
        return ParseResult(
            records=pd.DataFrame(),
            quarantine=[QuarantineRecord(spec.source, path.name, 0, reason, raw)],
            records_read=1,
        )
    try:
        options = {"external_id_fields": tuple(external_id_fields)} if spec.reads_external_ids else {}
        return spec.parse(path, source_file=path.name, **options)
    except Exception as exc:  # noqa: BLE001 - the pipeline keeps going, the file is kept
        log.warning("parser for %s failed on %s: %s", spec.source, path.name, type(exc).__name__)
        raw = path.read_bytes().decode("utf-8", errors="backslashreplace")
        record = QuarantineRecord(spec.source, path.name, 0, f"parser error: {type(exc).__name__}", raw)
        return ParseResult(records=pd.DataFrame(), quarantine=[record], records_read=1)
