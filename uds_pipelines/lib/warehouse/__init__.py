"""The SQL warehouse (UDS_WAREHOUSE_URL): keyed tables upserted for BI and reverse ETL.

`schema` declares the tables and their keys, `upsert` keeps them in step with the lake in one
transaction per table, `replace` swaps whole unkeyed tables, `staging` bulk-loads both, `engine`
opens connections.
"""

from uds_pipelines.lib.warehouse.engine import NAME_RE, WarehouseError, make_engine
from uds_pipelines.lib.warehouse.replace import publish_tables, read_table
from uds_pipelines.lib.warehouse.schema import META_TABLE, UPDATED_AT, WAREHOUSE_TABLES, WarehouseTable
from uds_pipelines.lib.warehouse.staging import STAGING_SUFFIX
from uds_pipelines.lib.warehouse.upsert import UpsertCounts, upsert_tables

__all__ = [
    "META_TABLE",
    "NAME_RE",
    "STAGING_SUFFIX",
    "UPDATED_AT",
    "WAREHOUSE_TABLES",
    "UpsertCounts",
    "WarehouseError",
    "WarehouseTable",
    "make_engine",
    "publish_tables",
    "read_table",
    "upsert_tables",
]
