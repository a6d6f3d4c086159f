"""Web form submissions (HubSpot, Typeform, Webflow, Netlify, flat) parsed into the landed forms table."""

from uds_pipelines.lib.ingest.forms.parse import parse_form_file

__all__ = ["parse_form_file"]
