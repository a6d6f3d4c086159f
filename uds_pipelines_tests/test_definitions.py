"""The code location loads, and every asset is documented, grouped and typed for the UI."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.definitions import defs

EXPECTED_GROUPS = {c.GROUP_INGEST, c.GROUP_IDENTITY, c.GROUP_PROFILES, c.GROUP_SEGMENTS, c.GROUP_AUDIENCES}


def _assets(definitions: dg.Definitions) -> list[dg.AssetsDefinition]:
    return [a for a in definitions.assets if isinstance(a, dg.AssetsDefinition)]


def test_definitions_load_and_validate():
    definitions = defs()
    dg.Definitions.validate_loadable(definitions)
    assert definitions.get_repository_def().get_all_jobs()


def test_every_asset_has_group_kind_owner_and_one_line_docstring():
    definitions = defs()
    groups = set()
    for assets_def in _assets(definitions):
        for spec in assets_def.specs:
            groups.add(spec.group_name)
            assert spec.group_name and spec.group_name != "default", spec.key
            assert spec.kinds, f"{spec.key} has no kind"
            assert spec.owners, f"{spec.key} has no owner"
            assert spec.description and "\n" not in spec.description.strip(), (
                f"{spec.key} needs a one-line docstring"
            )
    assert EXPECTED_GROUPS <= groups


def test_sensors_and_schedules_run_by_default():
    repo = defs().get_repository_def()
    sensors = {s.name: s for s in repo.sensor_defs}
    assert {f"{source}_inbox_sensor" for source in c.INBOX_SOURCES} <= set(sensors)
    for sensor in sensors.values():
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, sensor.name
    assert repo.schedule_defs
    for schedule in repo.schedule_defs:
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING, schedule.name
