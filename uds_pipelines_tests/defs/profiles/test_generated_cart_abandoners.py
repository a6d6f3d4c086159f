"""Generated sessions through the assets: the people the pipeline finds with an abandoned cart are
the generator's ground truth, the cart_abandoners segment is its last 7 days, and the
cart-recovery export holds exactly the members who agreed to marketing emails."""

import csv

import dagster as dg
import pyarrow.parquet as pq

from uds_pipelines.defs.audiences.assets import audience_exports, audience_members
from uds_pipelines.defs.identity.assets import identity_inputs, identity_map
from uds_pipelines.defs.predictions.assets import customer_predictions
from uds_pipelines.defs.profiles.assets import consent_ledger, customer_profiles
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.defs.segments.assets import segment_membership
from uds_pipelines.lib import connection
from uds_pipelines_tests.generated_lake import AS_OF, landed_generated_lake


def test_generated_cart_abandoners_are_found_segmented_and_exported_with_consent(tmp_path):
    data = tmp_path / "data"
    settings = landed_generated_lake(data, people=80, seed=11, sessions=600)
    truth = pq.read_table(data / "ground_truth" / "cart_abandoners.parquet").to_pylist()
    assert len(truth) >= 10  # enough abandoned carts for the comparison to mean something

    uds = UdsSettingsResource(data_dir=str(data), as_of=AS_OF)
    assets = [identity_inputs, identity_map, consent_ledger, customer_predictions, customer_profiles,
              segment_membership, audience_members, audience_exports]  # fmt: skip
    with dg.instance_for_test() as instance:
        assert dg.materialize(assets, resources={"uds": uds}, instance=instance).success

    con = connection.for_settings(settings)
    try:
        abandoned = dict(
            con.execute(
                "SELECT customer_id, cart_abandoned_at FROM customer_profiles WHERE cart_abandoned_at IS NOT NULL"
            ).fetchall()
        )
        customer_of_user = dict(
            con.execute(
                "SELECT substr(record_id, 6), customer_id FROM identity_map "
                "WHERE source = 'events' AND record_id LIKE 'user:%'"
            ).fetchall()
        )
        segment = dict(
            con.execute(
                "SELECT customer_id, p.consent_email_marketing FROM segment_membership s "
                "JOIN customer_profiles p USING (customer_id) WHERE s.segment = 'cart_abandoners'"
            ).fetchall()
        )
    finally:
        con.close()

    # The same people (each signed-up user is a person), abandoned at the same "Product Added".
    expected = {customer_of_user[r["user_id"]]: r["last_added_at"] for r in truth}
    assert abandoned == expected
    as_of = settings.as_of()
    recent = {customer for customer, at in expected.items() if (as_of - at).days < 7}
    assert set(segment) == recent and recent

    (export,) = (settings.exports_dir / "audiences" / "cart_recovery_email").glob("*.csv")
    with export.open(newline="") as handle:
        exported = {row["customer_id"] for row in csv.DictReader(handle)}
    assert exported == {customer for customer, consented in segment.items() if consented}
    assert exported < recent  # some abandoners never agreed to marketing emails
