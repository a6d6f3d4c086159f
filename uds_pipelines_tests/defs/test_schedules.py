"""Each schedule targets the assets it is documented to run, and each materializable asset has one trigger."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.definitions import defs


def _selected(job_name: str) -> set[str]:
    definitions = defs()
    job = definitions.resolve_job_def(job_name)
    return {key.to_user_string() for key in job.asset_layer.selected_asset_keys}


def test_schedule_targets_and_cron():
    repo = defs().get_repository_def()
    schedules = {s.name: s for s in repo.schedule_defs}
    assert schedules["daily_profiles_schedule"].cron_schedule == "0 2 * * *"
    assert schedules["daily_audiences_schedule"].cron_schedule == "0 3 * * *"
    assert all(s.execution_timezone == "UTC" for s in schedules.values())
    assert schedules["daily_profiles_schedule"].job_name == c.JOB_DAILY_PROFILES
    assert schedules["daily_audiences_schedule"].job_name == c.JOB_DAILY_AUDIENCES
    profiles = _selected(c.JOB_DAILY_PROFILES)
    assert {
        "stripe_customers",
        "stripe_events",
        "person_records",
        "identity_map",
        "customer_registry",
        "consent_ledger",
        "customer_profiles",
        "customer_kpis",
        "segment_membership",
        "segment_history",
        "access_reports",
    } <= profiles
    assert not any(a.startswith("landed_") for a in profiles)
    assert {"requests_audit", "suppression", "erasures_in_progress"} <= profiles
    assert _selected(c.JOB_RETENTION) == {"retention"}
    assert _selected(c.JOB_DAILY_AUDIENCES) == {
        "audience_members",
        "audience_counts",
        "audience_exports",
        "warehouse_tables",
    }
    assert _selected(c.JOB_STRIPE_CATCHUP) == {"stripe_events_api_pull"}


def test_every_asset_has_exactly_one_trigger():
    definitions = defs()
    repo = definitions.get_repository_def()
    triggered: dict[str, int] = {}
    for schedule in repo.schedule_defs:
        for key in _selected(schedule.job_name):
            triggered[key] = triggered.get(key, 0) + 1
    for sensor in repo.sensor_defs:
        for key in sensor.asset_selection.resolve(definitions.resolve_asset_graph()):
            triggered[key.to_user_string()] = triggered.get(key.to_user_string(), 0) + 1
    # the shared landing folders are external assets: no trigger of their own, their writers report them
    all_assets = {k.to_user_string() for k in definitions.resolve_asset_graph().materializable_asset_keys}
    assert {k: n for k, n in triggered.items() if n != 1} == {}
    assert all_assets == set(triggered)
    assert isinstance(repo.get_job(c.JOB_FULL_RUN), dg.JobDefinition)
