"""Column types of catalog tables, for tests that write small lake tables by hand."""

from uds_pipelines.lib import catalog


def duckdb_columns(table: str) -> dict[str, str]:
    """{column: DuckDB type} of a catalog table, in its order."""
    return {f.name: catalog.duckdb_type(f.type) for f in catalog.table(table).schema}


CUSTOMER_COLUMNS = duckdb_columns("stripe_customers")
RESPONSE_COLUMNS = duckdb_columns("landed_survey_responses")
FORM_COLUMNS = duckdb_columns("landed_forms")
