"""Generated sessions land whole, and the cart-abandonment rule over the landed `events` view,
with the generator's event-id truth standing in for identity stitching, gives its abandoners."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from uds_pipelines.lib import connection
from uds_pipelines.lib.generator import generate
from uds_pipelines_tests.lib.ingest.events.helpers import land, settings_for

# docs/traits.md (cart_abandoned_at): the last "Product Added" with no "Order Completed" at or after
# it, an hour having passed
ABANDONERS_SQL = """
    WITH attributed AS (
        SELECT coalesce(u.person_id, a.person_id) AS person_id, e.event, e.timestamp
        FROM events e
        LEFT JOIN truth u ON u.id_type = 'user' AND u.id = e.user_id
        LEFT JOIN truth a ON a.id_type = 'anon' AND a.identifiable AND a.id = e.anonymous_id AND e.user_id IS NULL
        WHERE e.event IN ('Product Added', 'Order Completed')
    ), last_add AS (
        SELECT person_id, max(timestamp) AS added FROM attributed
        WHERE event = 'Product Added' AND person_id IS NOT NULL GROUP BY ALL
    )
    SELECT l.person_id FROM last_add l
    WHERE l.added + INTERVAL 1 HOUR <= TIMESTAMPTZ '2026-11-01 00:00:00+00'
      AND NOT EXISTS (
        SELECT 1 FROM attributed o WHERE o.person_id = l.person_id AND o.event = 'Order Completed'
          AND o.timestamp >= l.added)
    ORDER BY 1
"""


def test_generated_sessions_land_and_their_abandoners_follow_the_rule(tmp_path: Path) -> None:
    summary = generate(tmp_path, people=50, seed=2, workers=1, sessions=400, end="2026-11-01")
    settings = settings_for(tmp_path)
    stage = land(settings)
    assert stage.summary.records_landed == summary.events
    assert stage.summary.records_quarantined == 0
    truth_dir = tmp_path / "ground_truth"
    con = connection.connect(settings.lake_dir)
    try:
        con.register("truth", pq.read_table(truth_dir / "event_people.parquet"))
        found = [r[0] for r in con.execute(ABANDONERS_SQL).fetchall()]
    finally:
        con.close()
    expected = sorted(pq.read_table(truth_dir / "cart_abandoners.parquet").column("person_id").to_pylist())
    assert len(expected) > 3
    assert found == expected
