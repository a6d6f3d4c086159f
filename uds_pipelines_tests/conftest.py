import os
import uuid
from pathlib import Path

import pytest

REALDATA = Path(__file__).parent / "realdata"
# The files that take minutes each (whole-graph runs, a served UI): started first, so that on
# several workers (scripts/test.sh) none of them is left running alone at the end of the suite.
SLOWEST_FIRST = (
    "ui/test_ui_browser.py",
    "test_end_to_end.py",
    "cli/test_privacy_crash.py",
    "deploy/test_start_script.py",
    "cli/test_run_queue.py",
    "cli/test_reproducible_runs.py",
    "lib/identity/test_generated.py",
    "defs/privacy/test_access_reports.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        relative = item.path.relative_to(Path(__file__).parent).as_posix()
        return SLOWEST_FIRST.index(relative) if relative in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file and among the rest is kept


@pytest.fixture
def realdata() -> Path:
    """Real exports and payloads written by others (see realdata/*/SOURCES.md)."""
    return REALDATA


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3-compatible HTTP server (moto in server mode) on loopback, for object-storage tests."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_endpoint_process(tmp_path_factory):
    """The same S3 server (moto) in a process of its own, for tests that run the whole graph on
    object storage: thousands of requests per run, which an in-process server answers on the
    test's own interpreter (one core, under its GIL) while the run waits for them."""
    import subprocess
    import sys
    import time

    import requests

    from uds_pipelines_tests.dagster_dev import free_port

    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    moto_server = Path(sys.executable).parent / "moto_server"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"moto_server exited: {log.read_text()[-2000:]}"
            try:
                if requests.get(f"{endpoint}/moto-api/", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"moto_server not answering: {log.read_text()[-2000:]}"
            time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=30)


S3_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def make_bucket(endpoint: str):
    """A new, empty bucket on the loopback S3 server; returns (s3fs filesystem, bucket name)."""
    import uuid

    import s3fs

    name = f"uds-test-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(endpoint_url=endpoint, key="testing", secret="testing", use_listings_cache=False)
    fs.mkdir(name)
    return fs, name


def set_s3_env(mp: pytest.MonkeyPatch, endpoint: str) -> None:
    for variable, value in S3_TEST_ENV.items():
        mp.setenv(variable, value)
    mp.setenv("UDS_S3_ENDPOINT_URL", endpoint)


@pytest.fixture
def s3_bucket(s3_endpoint, monkeypatch):
    """A fresh bucket on the loopback S3 server, with credentials and endpoint in the environment."""
    set_s3_env(monkeypatch, s3_endpoint)
    return make_bucket(s3_endpoint)


@pytest.fixture(params=["sqlite", "postgres"])
def warehouse_url(request, tmp_path):
    """A warehouse per test: a SQLite file, and a fresh PostgreSQL database when UDS_TEST_POSTGRES_URL
    is set (`.ci/run` starts one), so keyed tables never meet another test's."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
        return
    server = os.environ.get("UDS_TEST_POSTGRES_URL")
    if not server:
        print("UDS_TEST_POSTGRES_URL is not set: the PostgreSQL warehouse is not tested")
        pytest.skip("UDS_TEST_POSTGRES_URL is not set")
    import sqlalchemy as sa

    name = f"uds_wh_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
