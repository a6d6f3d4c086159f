"""Land Stripe event files (inbox/stripe/*.jsonl, *.json) into the `landed_stripe` table, in DuckDB."""

# Design:
# - Pass 1 reads every JSONL line as text (read_csv with a delimiter that cannot occur in valid
#   JSON) into a narrow envelope table; pass 2 re-reads the lines and pairs them with it by
#   POSITIONAL JOIN, so payloads stream from file to Parquet and memory stays flat.
# - The batch file name is derived from the sha256 of the input files, so a rerun after a crash
#   overwrites the same batch instead of adding a second one; that batch is excluded from the
#   "already landed" anti-join. Quarantine files are named per input file content likewise.
# - Files DuckDB refuses (invalid UTF-8 lines) are rewritten with those lines blanked, so line
#   numbers hold; only such files are read line by line in Python.

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from uds_pipelines.lib import catalog, lake, lake_views, storage
from uds_pipelines.lib.ingest.stripe_landing import envelope, output
from uds_pipelines.lib.ingest.stripe_landing.reasons import SOURCE, clean_jsonl, describe, describe_document
from uds_pipelines.lib.masking import mask_text
from uds_pipelines.lib.quarantine import MAX_RAW_CHARS, QuarantineRecord, decode_raw, write_quarantine

JSONL_SUFFIXES = {".jsonl", ".ndjson"}
JSON_SUFFIXES = {".json"}


@dataclass
class StripeFileStats:
    file_name: str
    path: Path
    sha256: str = ""
    size_bytes: int = 0
    records_read: int = 0
    records_landed: int = 0
    records_quarantined: int = 0
    duplicates_skipped: int = 0

    @property
    def conserved(self) -> bool:
        return self.records_read == self.records_landed + self.records_quarantined + self.duplicates_skipped


@dataclass
class StripeLandingResult:
    batch_name: str
    batch_path: Path | None
    files: list[StripeFileStats] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    quarantine_paths: list[Path] = field(default_factory=list)

    def _total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    @property
    def records_read(self) -> int:
        return self._total("records_read")

    @property
    def records_landed(self) -> int:
        return self._total("records_landed")

    @property
    def records_quarantined(self) -> int:
        return self._total("records_quarantined")

    @property
    def duplicates_skipped(self) -> int:
        return self._total("duplicates_skipped")

    @property
    def conserved(self) -> bool:
        return all(f.conserved for f in self.files)


def batch_name_for(sha256s: list[str]) -> str:
    """Deterministic batch file name for a set of input files (order does not matter)."""
    digest = hashlib.sha256("\n".join(sorted(sha256s)).encode()).hexdigest()
    return f"stripe-{digest[:32]}.parquet"


def land_stripe_files(
    paths: list[Path],
    lake_dir: Path,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    batch_name: str | None = None,
    hold: bool = False,
    hashes: Mapping[Path, str] | None = None,
) -> StripeLandingResult:
    """Land Stripe event files as one batch; bad records go to quarantine, duplicates are skipped.

    The caller deletes the inbox files only after this returns (landed and quarantine are durable).
    With `hold`, the batch is written as `<name>.held` (no reader globs it) for the caller to
    screen and then `release_held_batch`: a crash in between leaves nothing readable, and the
    inbox files are still there to be landed again. `hashes` are sha256s the caller already took of
    these (claimed, no longer changing) files: hashing 1 GB again costs seconds."""
    unique = sorted({Path(p) for p in paths}, key=lambda p: (p.name, str(p)))
    stats = {str(p): StripeFileStats(p.name, p) for p in unique}
    quarantine: list[QuarantineRecord] = []
    jsonl: list[Path] = []
    json_files: list[Path] = []
    for path in unique:
        st = stats[str(path)]
        reason = _inspect(path, st, (hashes or {}).get(path))
        if reason:
            _whole_file(st, quarantine, reason, None)
        elif path.suffix.lower() in JSONL_SUFFIXES:
            jsonl.append(path)
        else:
            json_files.append(path)

    name = batch_name or batch_name_for([s.sha256 or s.file_name for s in stats.values()])
    landed_dir = catalog.path(lake_dir, "landed_stripe")  # its batch files: duplicates, stale temps
    final = landed_dir / (name + lake.HELD_SUFFIX if hold else name)
    own = con is None
    con = con or lake.duckdb_connection(memory_limit="1GB")
    previous = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    # cleaned JSONL copies and spill hold personal data: a private, tagged folder that the next
    # writer sweeps if this process is killed (a TemporaryDirectory in /tmp would stay forever)
    tmp = lake.private_temp_path("stripe-landing")
    tmp.mkdir(mode=0o700)
    try:
        try:
            if own:
                con.execute(f"SET temp_directory={envelope.sql_str(tmp / 'spill')}")
                con.execute("SET enable_progress_bar=false")
            # Line numbers and the pass 1 / pass 2 pairing rely on scans in file order.
            con.execute("SET preserve_insertion_order=true")
            source = _build_jsonl_env(con, jsonl, stats, quarantine, tmp)
            _build_json_env(con, json_files)
            con.execute(envelope.resolve_suspect_numbers("stripe_jl_raw", "rowid", "bad_line"))
            con.execute(envelope.resolve_suspect_numbers("stripe_js_env", "position", "line"))
            con.execute(output.CREATE_JSONL_OFFSETS)
            con.execute(output.CREATE_ALL_ENV)
            existing = [p for p in _landed_files(landed_dir) if p.name != name]
            con.execute(output.create_duplicates(existing))
            _collect_bad(con, stats, quarantine)
            to_land = _apply_counts(con, stats)
            _quarantine_blank_jsonl(stats, quarantine)
            batch_path = None
            if to_land:
                _remove_stale_temps(landed_dir, name)
                if source:
                    con.execute(output.CREATE_JSONL_LAND)
                sql = output.landed_rows(source, bool(json_files))
                written = lake_views.write_query(con, lake_dir, "landed_stripe", sql, batch_name=final.name)
                if written != to_land:
                    raise RuntimeError(f"stripe landing wrote {written} rows, expected {to_land}")
                batch_path = final
        finally:
            con.execute(f"SET preserve_insertion_order={str(previous).lower()}")
            con.execute("DROP VIEW IF EXISTS stripe_jl_env")
            for table in (
                "stripe_jl_raw",
                "stripe_jl_off",
                "stripe_jl_land",
                "stripe_js_docs",
                "stripe_js_env",
                "stripe_all_env",
            ):
                con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute("DROP TABLE IF EXISTS stripe_dups")
            if own:
                con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    quarantine_paths = _write_quarantine(quarantine, stats, lake_dir)
    ordered = sorted(stats.values(), key=lambda st: (st.file_name, str(st.path)))
    return StripeLandingResult(name, batch_path, ordered, quarantine, quarantine_paths)


def _inspect(path: Path, st: StripeFileStats, sha256: str | None) -> str | None:
    """Hash and size the file; a reason when the whole file cannot be read as events."""
    try:
        st.size_bytes = path.stat().st_size
        st.sha256 = sha256 or lake.sha256_file(path)
    except OSError as exc:
        return f"unreadable file: {type(exc).__name__}"
    if path.suffix.lower() not in JSONL_SUFFIXES | JSON_SUFFIXES:
        return f"unsupported file type {path.suffix or '(none)'}: expected .jsonl or .json"
    if st.size_bytes == 0:
        return "empty file (0 bytes)"
    return None


def _whole_file(
    st: StripeFileStats, quarantine: list[QuarantineRecord], reason: str, raw: str | None
) -> None:
    st.records_read += 1
    st.records_quarantined += 1
    quarantine.append(QuarantineRecord(SOURCE, st.file_name, 0, reason, raw))


def _build_jsonl_env(con, jsonl, stats, quarantine, tmp: Path) -> str | None:
    """Pass 1 over the JSONL files; files DuckDB cannot read are cleaned, then probed one by one."""
    if not jsonl:
        _execute_all(
            con, envelope.create_jsonl_env("(SELECT NULL::VARCHAR AS filename, NULL::VARCHAR AS line WHERE false)")
        )
        return None
    readable = list(jsonl)
    cleaned_paths = []
    # A bare count(*) scan decodes and splits the lines like pass 1 at a fraction of its cost, so every
    # file is probed first (once): a refused file found by pass 1 itself would throw away a whole parse.
    for index, path in enumerate(jsonl):
        if _duckdb_reads(con, [path]):
            continue  # only the files DuckDB refuses are rewritten through Python
        st = stats.pop(str(path))
        cleaned = clean_jsonl(path, tmp / f"clean{index}", st.file_name)
        stats[str(cleaned.path)] = st
        st.records_read += len(cleaned.quarantine)
        st.records_quarantined += len(cleaned.quarantine)
        quarantine.extend(cleaned.quarantine)
        readable[index] = cleaned.path
        cleaned_paths.append(cleaned.path)
    for path in cleaned_paths:
        try:
            con.execute(f"SELECT count(*) FROM {envelope.jsonl_source([path])}").fetchall()
        except duckdb.Error as exc:
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _whole_file(stats[str(path)], quarantine, f"unreadable JSONL file: {mask_text(first_line)}", None)
            readable.remove(path)
    if not readable:
        return _build_jsonl_env(con, [], stats, quarantine, tmp)
    source = envelope.jsonl_source(readable)
    _execute_all(con, envelope.create_jsonl_env(source))
    return source


def _execute_all(con, statements: list[str]) -> None:
    for statement in statements:
        con.execute(statement)


def _duckdb_reads(con, paths: list[Path]) -> bool:
    try:
        con.execute(f"SELECT count(*) FROM {envelope.jsonl_source(paths)}").fetchall()
    except duckdb.Error:
        return False
    return True


def _build_json_env(con, json_files: list[Path]) -> None:
    blobs = (
        f"read_blob({envelope.sql_list(json_files)})"
        if json_files
        else "(SELECT NULL::VARCHAR AS filename, NULL::BLOB AS content WHERE false)"
    )
    con.execute(envelope.create_json_docs(blobs))
    con.execute(envelope.CREATE_JSON_ENV)


def _collect_bad(con, stats: dict[str, StripeFileStats], quarantine: list[QuarantineRecord]) -> None:
    """Readable reasons for the (few) bad records and whole bad `.json` documents."""
    kinds = dict(con.execute("SELECT filename, kind FROM stripe_js_docs").fetchall())
    for filename, kind, text in con.execute(output.BAD_DOCS).fetchall():
        st = stats[filename]
        raw = text if text is not None else decode_raw(st.path.read_bytes()[:400_000])
        _whole_file(st, quarantine, describe_document(kind, text, st.path), raw)
    for filename, position, code, raw in con.execute(output.BAD_ROWS).fetchall():
        st = stats[filename]
        if filename in kinds:
            where = "top level" if kinds[filename] == "event" else f"item {position}"
        else:
            where = f"line {position}"
        quarantine.append(
            QuarantineRecord(SOURCE, st.file_name, int(position), describe(code, raw, where), raw)
        )


def _apply_counts(con, stats: dict[str, StripeFileStats]) -> int:
    """Per-file read/quarantined/duplicate counts from pass 1; returns how many rows will land."""
    total = 0
    for filename, read, bad, dups in con.execute(output.FILE_STATS).fetchall():
        st = stats[filename]
        st.records_read += read
        st.records_quarantined += bad
        st.duplicates_skipped += dups
        st.records_landed += read - bad - dups
        total += read - bad - dups
    return total


def _quarantine_blank_jsonl(stats: dict[str, StripeFileStats], quarantine: list[QuarantineRecord]) -> None:
    """A JSONL file of blank lines read no record; it is kept as one so no file vanishes untraced.
    (An empty `.json` list is a valid empty delivery: its ledger row says it held 0 events.)"""
    for st in stats.values():
        if st.records_read == 0 and st.path.suffix.lower() in JSONL_SUFFIXES:
            with open(st.path, "rb") as handle:
                raw = decode_raw(handle.read(MAX_RAW_CHARS))
            _whole_file(st, quarantine, "file holds no events (only blank lines)", raw)


def _landed_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith("."))


def _remove_stale_temps(folder: Path, name: str) -> None:
    """Temp and held files a killed earlier run of this same batch left behind."""
    for stale in [*folder.glob(f".{name}.*.tmp"), folder / (name + lake.HELD_SUFFIX)]:
        if stale.exists():
            stale.unlink()


def release_held_batch(held: Path) -> Path | None:
    """Publish a screened `<name>.held` batch under its real name; None when screening emptied it."""
    if not held.exists():
        return None
    final = held.parent / held.name.removesuffix(lake.HELD_SUFFIX)
    storage.rename(held, final)
    return final


def _write_quarantine(records: list[QuarantineRecord], stats: dict[str, StripeFileStats], lake_dir: Path):
    """One quarantine file per input file, named by its content hash so a rerun overwrites it."""
    by_file: dict[str, list[QuarantineRecord]] = {}
    for record in records:
        by_file.setdefault(record.source_file, []).append(record)
    sha_by_name = {st.file_name: st.sha256 for st in stats.values()}
    paths = []
    for file_name, group in sorted(by_file.items()):
        key = hashlib.sha256(f"{sha_by_name.get(file_name, '')}:{file_name}".encode()).hexdigest()
        group.sort(key=lambda r: r.position)
        paths.append(write_quarantine(group, lake_dir, batch_name=f"stripe-{key[:32]}.parquet"))
    return [p for p in paths if p is not None]
