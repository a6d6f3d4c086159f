"""Staging tables built in DuckDB over the landed lake."""
