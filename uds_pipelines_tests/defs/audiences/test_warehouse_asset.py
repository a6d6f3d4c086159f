"""The `warehouse_tables` asset reports what its upserts did: rows per table, the total as
`dagster/row_count`, and on a rerun over the same lake no change at all."""

import dagster as dg

from uds_pipelines.defs.audiences import assets as audience_assets
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.lib.warehouse import WAREHOUSE_TABLES
from uds_pipelines_tests.lib.audiences.test_warehouse_stage import warehouse_lake


def _materialize(settings) -> dict:
    result = dg.materialize(
        [audience_assets.warehouse_tables],
        resources={
            "uds": UdsSettingsResource(
                data_dir=str(settings.data_dir),
                warehouse_url=settings.warehouse_url,
                segments_file=str(settings.segments_file),
                audiences_file=str(settings.audiences_file),
                as_of="2026-11-01T00:00:00Z",
            )
        },
    )
    assert result.success
    (event,) = result.asset_materializations_for_node("warehouse_tables")
    return {key: value.value for key, value in event.metadata.items()}


def test_warehouse_asset_reports_rows_per_table_and_changes(tmp_path):
    settings, _ = warehouse_lake(tmp_path, f"sqlite:///{tmp_path / 'unused.sqlite'}")
    first = _materialize(settings)
    assert first["dagster/row_count"] == sum(first[name] for name in WAREHOUSE_TABLES)
    assert first["customer_profiles"] == 2 and first["audience_members"] == 2
    assert first["rows_changed"] == first["dagster/row_count"]
    assert "| customer_profiles | 2 | 2 | 0 | 0 | yes |" in first["changes"]
    again = _materialize(settings)
    assert again["rows_changed"] == 0 and again["dagster/row_count"] == first["dagster/row_count"]
