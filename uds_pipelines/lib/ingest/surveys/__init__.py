"""Survey export parsing: layout detection, responses, answers, NPS and consent (no Dagster here)."""

from uds_pipelines.lib.ingest.surveys.parse import parse_survey_bytes, parse_survey_file

__all__ = ["parse_survey_bytes", "parse_survey_file"]
