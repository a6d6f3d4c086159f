"""A lake landed and staged from the generator's output, for tests of the stages after staging."""

from __future__ import annotations

from pathlib import Path

from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.generator.core import generate
from uds_pipelines.lib.ingest import inbox
from uds_pipelines.lib.ingest.events.stage import land_events
from uds_pipelines.lib.ingest.landing import land_files
from uds_pipelines.lib.ingest.stage import FORMS, SURVEYS
from uds_pipelines.lib.ingest.stripe_files import land_stripe_files
from uds_pipelines.lib.staging.stripe import build_stripe_staging

AS_OF = "2026-11-01T00:00:00Z"


def landed_generated_lake(root: Path, people: int, seed: int, sessions: int = 0, **env: str) -> Settings:
    """Generate `people` (and `sessions` of behavioural events) into `root` (inbox + ground_truth),
    land every source and build Stripe staging."""
    generate(root, people=people, seed=seed, workers=1, sessions=sessions, end=AS_OF[:10])
    settings = Settings.from_env({"UDS_DATA_DIR": str(root), "UDS_AS_OF": AS_OF, **env})
    if sessions:
        land_events(settings)
    land_stripe_files([f.path for f in inbox.list_inbox(settings.inbox("stripe"))], settings.lake_dir)
    build_stripe_staging(settings.lake_dir)
    for spec in (SURVEYS, FORMS):
        land_files(spec, [f.path for f in inbox.list_inbox(settings.inbox(spec.source))], settings.lake_dir)
    return settings
