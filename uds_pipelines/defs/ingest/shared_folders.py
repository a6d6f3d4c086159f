"""The folders several landing steps append to (`landed_consent`, `landed_files`, `quarantine`):
external assets, since one key can be materialized by one op only. Their deps are the tables of
the steps that feed them; each landing step reports an `AssetMaterialization` when it appends."""

import dagster as dg

from uds_pipelines.defs.lake_specs import SHARED_FOLDER_SPECS


@dg.definitions
def shared_folders() -> dg.Definitions:
    return dg.Definitions(assets=SHARED_FOLDER_SPECS)
