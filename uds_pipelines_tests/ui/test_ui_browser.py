"""The Dagster UI driven in Debian chromium: groups, Materialize all, automations, checks, masked preview."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect

from uds_pipelines import constants as c
from uds_pipelines.definitions import defs
from uds_pipelines.defs.ingest.sensors import LANDING_STEP_BY_SOURCE
from uds_pipelines.lib.generator.buyer_events import write_buyer_events
from uds_pipelines.lib.generator.core import DEFAULT_START, generate
from uds_pipelines.lib.masking import mask_email
from uds_pipelines_tests.dagster_dev import REPO, DagsterDev, start_dagster_dev
from uds_pipelines_tests.ui.conftest import new_page, screenshot

AS_OF = "2026-11-01T00:00:00Z"
RUN_TIMEOUT_S = 480  # a bound, not a wait: the whole graph, one process per step, on a busy machine
IN_FLIGHT = ["QUEUED", "NOT_STARTED", "STARTING", "STARTED"]
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}
# what Dagster 1.13 prints where a code location did not load
ERROR_TEXTS = ("Code location error", "failed to load", "Error loading", "could not be loaded")
BROKEN_MESSAGE = "uds ui test: this code location is broken on purpose"
RUNS_QUERY = """query($filter: RunsFilter) { runsOrError(filter: $filter) {
  ... on Runs { results { runId status } } } }"""
RUN_QUERY = """query($id: ID!) { runOrError(runId: $id) {
  ... on Run { status stepStats { stepKey status } } } }"""


@dataclass
class Expected:
    groups: list[str]
    automations: list[str]
    emails: list[str]
    phones: list[str]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    made = tmp_path_factory.mktemp("ui")
    generate(made / "generated", people=60, seed=10)
    # repeat buyers enough for the predicted traits' fit and holdout check (as `uds-generate --buyers`)
    write_buyer_events(made / "generated", 200, 10, _epoch(DEFAULT_START), _epoch(AS_OF))
    return made


def _epoch(moment) -> int:
    moment = datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _land_inbox(data: Path) -> None:
    """What the inbox sensors' start-up runs would do on a new server: every inbox file landed,
    nothing downstream built. Done here, in this process, it spares the UI test those queued runs
    (a run worker and a step process each, one sensor interval apart); Materialize all then builds
    the rest of the graph from the landed tables, as it did after the sensors' runs."""
    landing = [key for step in LANDING_STEP_BY_SOURCE.values() for key in step.keys]
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as instance:
        mp.setenv("UDS_DATA_DIR", str(data))
        mp.setenv("UDS_AS_OF", AS_OF)
        job = defs().resolve_job_def(c.JOB_FULL_RUN)
        assert job.execute_in_process(instance=instance, asset_selection=landing).success
    assert not [p for p in (data / "inbox").rglob("*") if p.is_file()], "every inbox file landed"


@pytest.fixture(scope="module")
def servers(root: Path, chromium_path: str) -> Iterator[dict[str, DagsterDev]]:
    """The project's code location on 60 generated people (landed), and a location that cannot import."""
    shutil.copytree(root / "generated" / "inbox", root / "data" / "inbox")
    _land_inbox(root / "data")
    broken = root / "broken"
    broken.mkdir()
    (broken / "uds_broken_location.py").write_text(f"raise RuntimeError({BROKEN_MESSAGE!r})\n")
    (broken / "workspace.yaml").write_text(
        "load_from:\n  - python_module:\n      module_name: uds_broken_location\n      working_directory: .\n"
    )
    # both start before waiting on either, so their slow start-ups overlap
    started = {
        "main": start_dagster_dev(
            REPO, root / "home", {"UDS_DATA_DIR": str(root / "data"), "UDS_AS_OF": AS_OF}
        ),
        "broken": start_dagster_dev(
            broken, root / "broken_home", {"UDS_DATA_DIR": str(root / "broken_data")}
        ),
    }
    try:
        for server in started.values():
            server.wait_ready()
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="module")
def expected(root: Path) -> Expected:
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for n in graph.asset_nodes for k in n.check_keys}
    assert ("customer_profiles", "customer_id_unique") in checks, "the check this test looks for exists"
    people = pd.read_parquet(root / "generated" / "ground_truth" / "people.parquet")
    return Expected(
        groups=sorted({n.group_name for n in graph.asset_nodes}),
        automations=sorted(
            [s.name for s in definitions.sensors or []] + [s.name for s in definitions.schedules or []]
        ),
        emails=[e.lower() for e in people["email"].dropna()],
        phones=list(people["phone_e164"].dropna()),
    )


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    opened = new_page(browser)
    yield opened
    opened.close()


def code_location_errors(page: Page, server: DagsterDev, shot: str) -> list[str]:
    """Every code-location error the deployment page shows, with the error text behind it."""
    page.goto(f"{server.url}/deployment/locations")
    expect(page.get_by_text(re.compile(r"^\d+ code locations?$"))).to_be_visible()
    deadline = time.monotonic() + 90
    while page.get_by_text(re.compile(r"^(Loading|Updating)")).count():
        assert time.monotonic() < deadline, "code locations still loading after 90 s"
        page.wait_for_timeout(500)
    screenshot(page, shot)
    # the locations list is a virtualised grid of divs, not a table: go by its texts
    problems = [
        f"a location has status {t!r}" for t in ("Failed",) if page.get_by_text(t, exact=True).count()
    ]
    for button in page.get_by_role("button", name="View error").all():
        button.click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        screenshot(page, f"{shot}_error")
        # the summary line plus each exception line (the headings), without the stack frames
        headings = [h.inner_text().strip() for h in dialog.get_by_role("heading").all()]
        problems.append("\n".join([*dialog.inner_text().splitlines()[:2], *headings]))
        dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_be_hidden()
    body = page.inner_text("body")
    problems += [f"page says {text!r}" for text in ERROR_TEXTS if text.lower() in body.lower()]
    return problems


def assert_no_error_banner(page: Page) -> None:
    body = page.inner_text("body").lower()
    assert not [t for t in ERROR_TEXTS if t.lower() in body], f"code-location error on {page.url}"


def test_detector_reports_a_location_that_raises_on_import(servers, page):
    problems = code_location_errors(page, servers["broken"], "00_broken_location")
    assert problems, "the detector saw no error on a location that cannot import"
    assert "a location has status 'Failed'" in problems
    assert any("Error loading uds_broken_location" in p and BROKEN_MESSAGE in p for p in problems), problems


def test_project_code_location_loads_without_error(servers, page):
    assert code_location_errors(page, servers["main"], "01_locations") == []


def test_first_visit_shows_no_community_window(servers, browser):
    """A new user's browser (fresh storage) lands on the UI, not on an e-mail sign-up window."""
    server = servers["main"]
    assert server.graphql("{ shouldShowNux }")["shouldShowNux"] is False
    fresh = new_page(browser)
    try:
        fresh.goto(f"{server.url}/overview")
        expect(fresh.get_by_role("link", name=re.compile("Catalog"))).to_be_visible()
        fresh.wait_for_timeout(3000)  # the window opens a moment after the first render
        screenshot(fresh, "01_first_visit")
        assert fresh.get_by_text("Join the Dagster community").count() == 0
        assert fresh.get_by_role("dialog").count() == 0
    finally:
        fresh.close()


def test_server_starts_without_deprecation_warnings(servers):
    log = servers["main"].log_path.read_text(errors="replace")
    assert "Launching Dagster services" in log, "the log this test reads is the server's"
    assert not re.findall(r"\w*(?:Supersession|Deprecation)Warning.*", log)


def test_asset_graph_shows_every_group(servers, page, expected):
    assert {"ingest", "identity", "profiles", "segments", "audiences"} <= set(expected.groups)
    page.goto(f"{servers['main'].url}/asset-groups")
    expect(page.get_by_role("button", name=re.compile(r"Materialize all( \(\d+\))?$"))).to_be_visible()
    for group in expected.groups:
        expect(page.get_by_text(group, exact=True).first).to_be_visible()
    screenshot(page, "02_asset_graph")
    assert_no_error_banner(page)


def test_table_asset_shows_its_path_writer_and_columns(servers, page):
    """Where is table X, who writes it, what are its columns: on the table's own asset page."""
    page.goto(f"{servers['main'].url}/assets/identity_map")
    expect(page.get_by_text("lake/identity/identity_map.parquet").first).to_be_visible()
    expect(page.get_by_text("origin_customer_id").first).to_be_visible()
    expect(page.get_by_text("Source record -> stable customer id.").first).to_be_visible()
    screenshot(page, "02_table_asset")
    assert_no_error_banner(page)


def _wait_until_idle(server: DagsterDev, timeout: float = 150) -> None:
    """Let the sensors' start-up runs finish first, so Materialize all does not race them for the inbox."""
    deadline = time.monotonic() + timeout
    while server.graphql(RUNS_QUERY, {"filter": {"statuses": IN_FLIGHT}})["runsOrError"]["results"]:
        assert time.monotonic() < deadline, f"sensor runs still in flight after {timeout:.0f} s"
        time.sleep(1)


def _ui_run_ids(server: DagsterDev) -> list[str]:
    found = server.graphql(RUNS_QUERY, {"filter": {"tags": [{"key": "dagster/from_ui", "value": "true"}]}})
    return [r["runId"] for r in found["runsOrError"]["results"]]


def _launch_materialize_all(page: Page, server: DagsterDev) -> str:
    page.goto(f"{server.url}/asset-groups")
    button = page.get_by_role("button", name=re.compile(r"Materialize all( \(\d+\))?$"))
    expect(button).to_be_enabled()
    button.click()
    deadline = time.monotonic() + 60
    while not (ids := _ui_run_ids(server)):
        assert time.monotonic() < deadline, "no run was launched by Materialize all"
        dialog = page.get_by_role("dialog")
        # a launchpad or confirmation appears when something needs config or partitions
        if dialog.count() and dialog.first.is_visible():
            launch = dialog.first.get_by_role("button", name=re.compile(r"^(Launch|Materialize)"))
            if launch.count():
                screenshot(page, "03_launch_dialog")
                launch.first.click()
        page.wait_for_timeout(500)
    screenshot(page, "03_materialize_all_clicked")
    assert len(ids) == 1, f"one click, one run: {ids}"
    return ids[0]


@pytest.fixture(scope="module")
def ui_run(servers, page) -> dict:
    server = servers["main"]
    started = time.monotonic()
    _wait_until_idle(server)
    launched = time.monotonic()
    run_id = _launch_materialize_all(page, server)
    deadline = launched + RUN_TIMEOUT_S
    while (run := server.graphql(RUN_QUERY, {"id": run_id})["runOrError"])["status"] not in TERMINAL:
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']} after {RUN_TIMEOUT_S} s"
        time.sleep(2)
    print(
        f"sensor runs drained in {launched - started:.0f} s; Materialize all took {time.monotonic() - launched:.0f} s"
    )
    return {"run_id": run_id, **run}


def test_materialize_all_from_the_ui_succeeds(servers, page, ui_run):
    failed = [s["stepKey"] for s in ui_run["stepStats"] if s["status"] != "SUCCESS"]
    assert ui_run["status"] == "SUCCESS", f"run {ui_run['run_id']} {ui_run['status']}; steps not ok: {failed}"
    page.goto(f"{servers['main'].url}/runs/{ui_run['run_id']}")
    expect(page.get_by_text("Success", exact=True).first).to_be_visible()
    screenshot(page, "04_run_succeeded")
    assert failed == []


def test_sensors_and_schedules_are_running(servers, page, expected):
    assert {"stripe_inbox_sensor", "daily_profiles_schedule"} <= set(expected.automations)
    page.goto(f"{servers['main'].url}/automation")
    stopped: list[str] = []
    for name in expected.automations:
        row = (
            page.locator("[class*='listItem']")
            .filter(has=page.get_by_text(name, exact=True))
            .filter(has=page.get_by_role("checkbox"))  # the row itself, not the link inside it
        )
        expect(row).to_have_count(1)
        # the first checkbox selects the row, the last is the on/off switch (an input drawn over by an svg)
        toggle = row.get_by_role("checkbox").last
        expect(toggle).to_be_attached()
        try:
            expect(toggle).to_be_checked(timeout=15_000)  # each row's state arrives after the list
        except AssertionError:
            stopped.append(name)
    screenshot(page, "05_automation")
    assert stopped == [], f"not running in the UI: {stopped}"
    assert_no_error_banner(page)


def test_check_result_is_visible(servers, page, ui_run):
    page.goto(f"{servers['main'].url}/assets/customer_profiles?view=checks")
    entry = page.get_by_title("customer_id_unique", exact=True).first
    # the checks list shows each check's latest status right under its name
    expect(entry.locator("xpath=following-sibling::span[1]")).to_have_text("Succeeded")
    entry.click()
    expect(page).to_have_url(re.compile(r"checkDetail=customer_id_unique"))
    expect(page.get_by_text("Evaluation result")).to_be_visible()
    expect(page.get_by_text("Passed", exact=True).first).to_be_visible()
    screenshot(page, "06_checks")


def test_profile_preview_is_masked(servers, page, ui_run, expected):
    page.goto(f"{servers['main'].url}/assets/customer_profiles")
    expect(page.get_by_text("preview", exact=True).first).to_be_visible()
    body = page.inner_text("body")
    page.get_by_text("Show Markdown").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("***")
    screenshot(page, "07_masked_preview")
    preview = dialog.inner_text()
    shown = (body + "\n" + preview).lower()
    assert [e for e in expected.emails if e in shown] == [], "a plain e-mail of a generated person is shown"
    assert [p for p in expected.phones if p in shown] == [], "a plain phone of a generated person is shown"
    masked = {mask_email(e) for e in expected.emails}
    assert masked & set(preview.split()), "the preview shows the generated people, masked"


def test_predictions_show_their_fit_and_holdout_table(servers, page, ui_run):
    """The model asset shows how well it predicts: the holdout check (fit on the first part of the
    history, predict the rest) as a table per frequency, rendered in its metadata, and the error."""
    page.goto(f"{servers['main'].url}/assets/customer_predictions")
    expect(page.get_by_text("holdout_error_usd").first).to_be_visible()
    table = page.locator("table", has=page.get_by_text("repeat purchases (calibration)"))
    expect(table.first).to_be_visible()
    table.first.scroll_into_view_if_needed()
    screenshot(page, "08_predictions_holdout")
    rows = table.first.inner_text()
    assert "actual (mean)" in rows and "predicted (mean)" in rows and "7+" in rows
    body = page.inner_text("body")
    assert re.search(r"Fit on purchases up to \d{4}-\d\d-\d\d, predicted for the next [\d.]+ weeks", body)
