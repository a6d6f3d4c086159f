"""Verify an erasure: search everything under the data dir and the warehouse for the identifiers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from uds_pipelines.lib import catalog, connection, lake, storage
from uds_pipelines.lib.privacy.needle_scan import NeedleScanner, lowered_sql, scan_batches
from uds_pipelines.lib.privacy.needles import audience_hashes, expand_needles
from uds_pipelines.lib.privacy.rewrite import FILE_COL, describe_files, quote_ident

LEFTOVER = "leftover"
PENDING_INBOX = "pending_inbox"
# `data/samples/` is the project's committed synthetic demo set (source code, not customer data);
# matches there are reported but do not fail verification.
BUNDLED_SAMPLE = "bundled_sample"
SKIP_NAMES = {".uds_key"}
CHUNK_LINES = 100_000
MAX_BINARY_BYTES = 512 * 1024 * 1024
PARQUET_MAGIC = b"PAR1"
TEXT_SUFFIXES = {
    ".csv",
    ".tsv",
    ".json",
    ".jsonl",
    ".ndjson",
    ".txt",
    ".log",
    ".md",
    ".yaml",
    ".yml",
    ".xml",
    ".xlsx",
}


@dataclass(frozen=True)
class Finding:
    """Where an identifier was found: a path (relative to the data dir) and counts, never the value."""

    path: str
    detail: str
    count: int = 1
    kind: str = LEFTOVER


def search_needles(identifiers: set[str]) -> list[str]:
    """Needles for the identifiers, plus the SHA-256 hex that audience files would carry."""
    values = {i.strip() for i in identifiers if i and i.strip()}
    return expand_needles(values | {h for v in values for h in audience_hashes(v)})


def count_matches(texts: list[str | None], scanner: NeedleScanner, bounded: bool = True) -> int:
    """Texts holding a needle, case-insensitively: on word boundaries when `bounded`, anywhere
    otherwise (binary files pack fields without separators)."""
    return len(scanner.text_rows(texts, bounded))


def verify_erased(
    data_dir: Path,
    warehouse_url: str | None,
    identifiers: set[str],
    con: duckdb.DuckDBPyConnection | None = None,
    storage_root: Path | None = None,
) -> list[Finding]:
    """Every place under `data_dir` (every file, hidden and temp files too: decoded Parquet, known by
    name or magic bytes, CSV/JSON/text, other files' bytes) and in the
    warehouse where one of `identifiers` still occurs (case-insensitive, on word boundaries).

    Files under `inbox/` are reported with kind `pending_inbox`: landing drops them as suppressed.
    `.uds_key` and the suppression list (hashes only) are not searched. With the lake on object
    storage (`storage_root`, a remote path), everything under it is searched as well.
    """
    scanner = NeedleScanner(search_needles(identifiers))
    if scanner.empty:
        return []
    own = con is None
    con = con or connection.connect()
    findings: list[Finding] = []
    try:
        roots = [data_dir] + (
            [storage_root] if storage_root is not None and storage.is_remote(storage_root) else []
        )
        skip = {storage.key(catalog.path(root / "lake", "suppression")) for root in roots}
        sqlite_files = {str(p) for p in _sqlite_files(warehouse_url)}
        parquet: dict[Path, list[Path]] = {}  # by folder: a table's files are read in one query
        for root in roots:
            # Hidden files and folders too: a killed writer's temp file holds the same rows in clear.
            for path in storage.walk_files(root, include_hidden=True):
                if storage.key(path) in skip or path.name in SKIP_NAMES:
                    continue
                if _is_parquet(path):
                    parquet.setdefault(path.parent, []).append(path)
                    continue
                n = _scan_file(path, scanner, bounded=path.suffix.lower() in TEXT_SUFFIXES)
                if n:
                    kind = _kind(path, data_dir)
                    what = (
                        "raw bytes of database file" if storage.key(path) in sqlite_files else "lines/blocks"
                    )
                    findings.append(Finding(_display(path, data_dir), f"{what}: {n} match(es)", n, kind))
        for files in parquet.values():
            # what earlier tables' decoding kept goes back to the system before a big one
            if _local_bytes(files) >= lake.RELEASE_BEFORE_BYTES:
                lake.release_memory(con)
            findings += _scan_parquet(con, files, data_dir, scanner)
        findings += _scan_warehouse(warehouse_url, scanner)
    finally:
        if own:
            con.close()
    return findings


def _local_bytes(files: list[Path]) -> int:
    """Bytes of local files (object storage's are not asked for: a request each); a file gone
    since the walk (a live writer's temp file) counts nothing here, its scan reports it."""
    total = 0
    for f in files:
        if not storage.is_remote(f):
            try:
                total += f.stat().st_size
            except OSError:
                continue
    return total


def _display(path: Path, data_dir: Path) -> str:
    """Local files relative to the data dir, objects by their full URL."""
    return str(path) if storage.is_remote(path) else str(path.relative_to(data_dir))


def _under(path: Path, folder: Path) -> bool:
    if storage.is_remote(path):
        return False
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _is_parquet(path: Path) -> bool:
    """Parquet by name, or by its magic bytes whatever the name (`.<name>.parquet.<uuid>.tmp`)."""
    if path.name.endswith((".parquet", ".parquet" + lake.HELD_SUFFIX)):
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(len(PARQUET_MAGIC)) == PARQUET_MAGIC
    except OSError:
        return False


def _scan_parquet(
    con: duckdb.DuckDBPyConnection, files: list[Path], data_dir: Path, scanner: NeedleScanner
) -> list[Finding]:
    """Matching rows per file and text column of decoded Parquet files, read together (one query per
    table folder: a day-partitioned table has hundreds of small files); files that cannot be read
    together are read alone, and a file that cannot be read at all is searched as raw bytes."""
    try:
        columns = describe_files(con, files)
        text_cols = [
            c
            for c, t in columns.items()
            if t in ("VARCHAR", "JSON") or t.endswith("[]") or t.startswith(("STRUCT", "MAP"))
        ]
        relation = lake.files_relation(files, union_by_name=True, filename=FILE_COL)
        counts = _count_column_rows(con, relation, text_cols, scanner) if text_cols else Counter()
    except duckdb.Error:
        if len(files) > 1:  # a broken file, or types that do not unite across files: each file alone
            return [finding for path in files for finding in _scan_parquet(con, [path], data_dir, scanner)]
        n = _scan_file(files[0], scanner, bounded=False)
        return [Finding(_display(files[0], data_dir), "unreadable parquet bytes", n)] if n else []
    by_name = {str(path): path for path in files}  # DuckDB reports the names it was given
    findings = []
    for (name, i), n in sorted(counts.items()):
        path = by_name.get(name) or storage.same_kind_path(name, files[0])
        findings.append(
            Finding(
                _display(path, data_dir),
                f"parquet column {text_cols[i]}: {n} row(s)",
                n,
                _kind(path, data_dir),
            )
        )
    return findings


def _count_column_rows(
    con: duckdb.DuckDBPyConnection, relation: str, columns: list[str], scanner: NeedleScanner
) -> Counter[tuple[str, int]]:
    """Rows of `relation` (read with `filename=FILE_COL`) holding a needle (bounded), per (file,
    index into `columns`), in one decoding pass: each value as text (lists, structs and maps as
    their text form), ignoring case."""
    values = ", ".join(
        f"{lowered_sql(f'CAST({quote_ident(c)} AS VARCHAR)')} AS _c{i}" for i, c in enumerate(columns)
    )

    def count(batch: pa.RecordBatch) -> Counter[tuple[str, int]]:
        names = batch.column(FILE_COL)
        found: Counter[tuple[str, int]] = Counter()
        for i in range(len(columns)):
            rows = scanner.rows(batch.column(f"_c{i}"))
            if len(rows):
                found.update((name, i) for name in names.take(pa.array(rows)).to_pylist())
        return found

    total: Counter[tuple[str, int]] = Counter()
    for found in scan_batches(con, f"SELECT {FILE_COL}, {values} FROM {relation}", count):
        total.update(found)
    return total


def _scan_file(path: Path, scanner: NeedleScanner, bounded: bool) -> int:
    """Matching lines of a file, case-insensitively: a needle on word boundaries for text files
    (`bounded`), anywhere in the lines of other files' bytes."""
    try:
        if path.suffix.lower() == ".xlsx":
            return count_matches(_xlsx_cells(path), scanner, bounded)
        size = path.stat().st_size
        if size > MAX_BINARY_BYTES:
            return 0
        data = path.read_bytes()
    except (OSError, ValueError):
        return 0
    text = data.decode("utf-8", errors="replace").replace("\x00", " ")
    lines = text.splitlines() or [""]
    total = 0
    for start in range(0, len(lines), CHUNK_LINES):
        total += count_matches(lines[start : start + CHUNK_LINES], scanner, bounded)
    return total


def _xlsx_cells(path: Path) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=False)
    try:
        return [
            "\n".join("" if v is None else str(v) for v in row)
            for ws in book.worksheets
            for row in ws.iter_rows(values_only=True)
        ]
    finally:
        book.close()


def _sqlite_files(url: str | None) -> set[Path]:
    if not url or not url.startswith("sqlite:///"):
        return set()
    db = Path(url[len("sqlite:///") :]).resolve()
    return {db, Path(str(db) + "-wal"), Path(str(db) + "-journal")}


def _scan_warehouse(url: str | None, scanner: NeedleScanner) -> list[Finding]:
    if not url:
        return []
    findings = []
    engine = sa.create_engine(url)  # read-only: no write lock (make_engine takes BEGIN IMMEDIATE)
    try:
        inspector = sa.inspect(engine)
        with engine.connect() as conn:
            for table in inspector.get_table_names():
                for column in inspector.get_columns(table):
                    if (
                        not isinstance(column["type"], (sa.String, sa.Text, sa.JSON))
                        and "CHAR" not in str(column["type"]).upper()
                    ):
                        continue
                    query = sa.select(sa.column(column["name"])).select_from(sa.table(table))
                    values = [None if v is None else str(v) for (v,) in conn.execute(query)]
                    n = count_matches(values, scanner)
                    if n:
                        findings.append(
                            Finding(f"warehouse:{table}", f"column {column['name']}: {n} row(s)", n)
                        )
    finally:
        engine.dispose()
    return findings


def _kind(path: Path, data_dir: Path) -> str:
    if _under(path, data_dir / "inbox"):
        return PENDING_INBOX
    if _under(path, data_dir / "samples"):
        return BUNDLED_SAMPLE
    return LEFTOVER
