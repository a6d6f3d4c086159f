"""uds_pipelines: an open-source customer data platform built as Dagster pipelines."""

__version__ = "0.1.0"
