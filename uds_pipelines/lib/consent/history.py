"""Consent from events outlives the events: before retention deletes an event day, the consent
changes its events made are kept in `event_consent_history`.

Statements from events are changes of preference (`events`), so they depend on the events before
them. Once old days are deleted, a visitor's first remaining page view would restate the cookie's
old yes as if it were new, and beat a later refusal made in a form. So the consent step, before
retention can run, stores the statements of every event day wholly past the retention cutoff (its
watermark over `events`, which retention waits for) and then reads them as facts; the statements of
the remaining events are changes against the latest stored one.

Days are stored in time order, as retention deletes them, so a stored statement never depends on a
later event. An event that lands after its day was stored (a very late delivery) is compared with
the statements stored before it, not with those after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import duckdb

from uds_pipelines.lib import catalog, lake_views, watermarks
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.consent.events import event_statements_sql

STEP = "consent_ledger"
TABLE = "event_consent_history"


def _day(batch: str) -> datetime | None:
    """The day of an `events` batch (`day=2026-01-06/<file>`)."""
    folder = batch.split("/", 1)[0]
    if not folder.startswith("day="):
        return None
    try:
        return datetime.fromisoformat(folder.removeprefix("day="))
    except ValueError:
        return None


def keep_expiring(
    con: duckdb.DuckDBPyConnection, settings: Settings, category_map: Mapping[str, Sequence[str]]
) -> int:
    """Store the consent statements of the event days wholly past the retention cutoff that are not
    stored yet, then mark those days merged (retention may delete them); returns the statements added."""
    lake_dir = settings.lake_dir
    cutoff = (settings.as_of() - timedelta(days=settings.retention_days)).astimezone(UTC).replace(tzinfo=None)
    pending = watermarks.pending(con, lake_dir, STEP, "events")
    expiring = [
        f for f, name in zip(pending.files, pending.names, strict=True)
        if (day := _day(name)) is not None and day + timedelta(days=1) <= cutoff
    ]  # fmt: skip
    lake_views.register(con, lake_dir, [TABLE])
    before = lake_views.row_count(lake_dir, TABLE)
    batch = watermarks.PendingBatches(STEP, "events", tuple(expiring))
    statements = (
        event_statements_sql(category_map, events=batch.relation(con), prior=TABLE, with_message_id=True)
        if expiring
        else None
    )
    if statements:
        # DISTINCT: a replay after a crash before the watermark finds the same statements again
        union = f"SELECT * FROM {TABLE} UNION ALL SELECT * FROM {statements}"
        lake_views.write_query(con, lake_dir, TABLE, f"SELECT DISTINCT * FROM ({union})")
    elif not catalog.path(lake_dir, TABLE).exists():  # every lake has the table, empty until days expire
        lake_views.write_query(con, lake_dir, TABLE, f"SELECT * FROM {TABLE}")
    if expiring:
        watermarks.commit(con, lake_dir, STEP, [batch])
    return lake_views.row_count(lake_dir, TABLE) - before
