"""What the catalog views cost on object storage, counted as requests to a real S3 server (moto).

On S3 every file DuckDB looks at is an HTTP request or several; registering the 34 views and
querying them happens dozens of times per run, so a per-file cost that creeps back multiplies.
The bounds below are about twice what the code needs now and far below what it needed before
(a full registration of this lake: 619 requests; a query on a folder of 10 batches: 128).
"""

import collections
import threading

import pyarrow as pa
import pytest

from uds_pipelines.lib import catalog, connection, lake, lake_views, storage

BATCHES = 10


class Requests:
    """Requests the loopback S3 server answers, by kind (HEAD, LIST, GET, PUT, ...)."""

    def __init__(self) -> None:
        self.counts: collections.Counter = collections.Counter()
        self._lock = threading.Lock()

    def record(self, environ) -> None:
        method, query = environ["REQUEST_METHOD"], environ.get("QUERY_STRING", "")
        kind = "LIST" if method == "GET" and ("list-type" in query or "prefix=" in query) else method
        with self._lock:
            self.counts[kind] += 1

    def clear(self) -> None:
        self.counts.clear()

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@pytest.fixture
def requests(monkeypatch):
    from moto.moto_server import werkzeug_app

    seen = Requests()
    answer = werkzeug_app.DomainDispatcherApplication.__call__

    def counting(self, environ, start_response):
        seen.record(environ)
        return answer(self, environ, start_response)

    monkeypatch.setattr(werkzeug_app.DomainDispatcherApplication, "__call__", counting)
    return seen


@pytest.fixture
def lake_dir(s3_bucket):
    """Every catalog table written: file tables once, folder tables in `BATCHES` batches (the
    first half of those with added columns from before the columns were added)."""
    fs, bucket = s3_bucket
    lake_dir = storage.remote_root(f"s3://{bucket}/cdp", fs.endpoint_url) / "lake"
    for name in catalog.TABLES:
        table = catalog.table(name)
        if table.kind == "file":
            lake_views.write_arrow(lake_dir, name, _rows(table, 0))
            continue
        for i in range(BATCHES):
            data = _rows(table, i)
            if table.added and i < BATCHES // 2:
                data = data.drop_columns([column for column, _default in table.added])
            folder = catalog.path(lake_dir, name)
            if table.partitioned_by:  # day folders, two days
                folder = folder / f"{table.partitioned_by}=2026-12-0{i % 2 + 1}"
            lake.write_parquet_atomic(data, folder / f"batch-{i:03d}.parquet")
    return lake_dir


def _rows(table: catalog.Table, i: int) -> pa.Table:
    """Two rows of the table's schema; string columns carry the batch number."""
    columns = {}
    for field in table.schema:
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            columns[field.name] = pa.array([f"{field.name}-{i}-a", f"{field.name}-{i}-b"], field.type)
        else:
            columns[field.name] = pa.nulls(2, field.type)
    return pa.table(columns, schema=table.schema)


def test_registering_every_view_costs_a_few_requests_per_table_and_batch(lake_dir, requests):
    tables = len(catalog.TABLES)
    folders = [n for n in catalog.TABLES if catalog.table(n).kind == "folder"]
    requests.clear()
    con = connection.connect(lake_dir)
    # now: per table our listing or existence check and DuckDB's, then a footer per file (twice
    # for a table whose added column must be filled in); no HEAD per file DuckDB opens
    assert requests.total <= 3 * tables + 2 * BATCHES * len(folders), requests.counts
    assert requests.counts["HEAD"] <= 2 * tables, requests.counts
    requests.clear()
    lake_views.register(con, lake_dir, ["landed_stripe"])
    assert requests.counts["HEAD"] == 0 and requests.total <= 2 + BATCHES, requests.counts


def test_a_query_on_a_folder_view_lists_once_and_asks_nothing_per_file(lake_dir, requests):
    con = connection.connect(lake_dir)
    requests.clear()
    assert con.execute("SELECT count(*) FROM landed_stripe").fetchone()[0] == 2 * BATCHES
    # one listing (four before), no HEAD per file (three per opening before), the reads
    assert requests.counts["LIST"] <= 2, requests.counts
    assert requests.counts["HEAD"] == 0, requests.counts
    assert requests.total <= 2 + 3 * BATCHES, requests.counts


def test_views_read_what_a_read_by_name_of_every_file_reads(lake_dir):
    con = connection.connect(lake_dir)
    for name in catalog.TABLES:
        table = catalog.table(name)
        if table.kind != "folder":
            continue
        glob = lake.parquet_glob(catalog.path(lake_dir, name))
        partition = [table.partitioned_by] if table.partitioned_by else []
        if partition:
            glob = lake.sql_path(catalog.path(lake_dir, name)) + "/*/*.parquet"
        expected = con.sql(
            f"SELECT * FROM read_parquet('{glob}', union_by_name=true, hive_partitioning={bool(partition)})"
        ).to_arrow_table()
        got = con.sql(f"SELECT * FROM {name}").to_arrow_table()
        assert len(got) == len(expected) > 0, name
        assert sorted(got.column_names) == sorted([*table.columns, *partition])  # union_by_name: order of first sight
        assert sorted(got.select(expected.column_names).to_pylist(), key=repr) == sorted(
            expected.to_pylist(), key=repr
        ), name


def test_a_rewritten_file_is_read_as_it_is_now(lake_dir, s3_bucket):
    """What DuckDB's filesystem remembers of a file never outlives the statement that listed or
    checked it: a file rewritten by this process or by another (behind its back) reads new."""
    fs, _bucket = s3_bucket
    con = connection.connect(lake_dir)
    assert con.execute("SELECT count(*) FROM identity_map").fetchone()[0] == 2
    table = catalog.table("identity_map")
    lake_views.write_arrow(lake_dir, "identity_map", pa.concat_tables([_rows(table, 1)] * 3), con=con)
    assert con.execute("SELECT count(*) FROM identity_map").fetchone()[0] == 6
    # another writer, not through `storage`: a larger object under the same name
    path = catalog.path(lake_dir, "identity_map")
    other = storage.remote_root(str(path.parent), fs.endpoint_url) / "other.parquet"
    lake.write_parquet_atomic(pa.concat_tables([_rows(table, 2)] * 50), other)
    fs.copy(other.path, path.path)
    assert con.execute("SELECT count(*) FROM identity_map").fetchone()[0] == 100
    batch = catalog.path(lake_dir, "landed_stripe") / "batch-000.parquet"
    fs.pipe(batch.path, _parquet_bytes(pa.concat_tables([_rows(catalog.table("landed_stripe"), 0)] * 20)))
    assert con.execute("SELECT count(*) FROM landed_stripe").fetchone()[0] == 2 * BATCHES - 2 + 40


def _parquet_bytes(data: pa.Table) -> bytes:
    import io

    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(data, sink)
    return sink.getvalue()
