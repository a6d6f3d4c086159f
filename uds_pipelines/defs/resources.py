"""The one configuration resource, bound once for every asset, sensor and schedule."""

import os

import dagster as dg

from uds_pipelines.lib.config import Settings


class UdsSettingsResource(dg.ConfigurableResource):
    """CONTRACT section 2 settings. A field left unset falls back to its `UDS_*` variable, read
    when the run starts, so every variable keeps its documented default; secrets are only ever
    read from the environment and never appear in run config."""

    data_dir: str | None = None
    warehouse_url: str | None = None
    stripe_api_base: str | None = None
    segments_file: str | None = None
    audiences_file: str | None = None
    traits_file: str | None = None
    matching: str | None = None
    as_of: str | None = None
    reporting_currency: str | None = None
    fx_rates: str | None = None
    tracking_plan: str | None = None

    def settings(self) -> Settings:
        env = dict(os.environ)
        overrides = {
            "UDS_DATA_DIR": self.data_dir,
            "UDS_WAREHOUSE_URL": self.warehouse_url,
            "UDS_STRIPE_API_BASE": self.stripe_api_base,
            "UDS_SEGMENTS_FILE": self.segments_file,
            "UDS_AUDIENCES_FILE": self.audiences_file,
            "UDS_TRAITS_FILE": self.traits_file,
            "UDS_MATCHING": self.matching,
            "UDS_AS_OF": self.as_of,
            "UDS_REPORTING_CURRENCY": self.reporting_currency,
            "UDS_FX_RATES": self.fx_rates,
            "UDS_TRACKING_PLAN": self.tracking_plan,
        }
        env.update({key: value for key, value in overrides.items() if value is not None})
        return Settings.from_env(env)


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"uds": UdsSettingsResource()})
