"""From hand-written Segment messages to a cart-recovery export, through the assets in-process:
identity joins the events, profiles carry the computed traits, the cart_abandoners segment and
its consent-safe audience follow, and the funnel shows as metadata."""

import csv
import json
import re

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.defs.audiences.assets import audience_exports, audience_members
from uds_pipelines.defs.identity.assets import identity_inputs, identity_map
from uds_pipelines.defs.profiles.assets import consent_ledger, customer_profiles
from uds_pipelines.defs.profiles.funnels import event_funnels
from uds_pipelines.defs.resources import UdsSettingsResource
from uds_pipelines.defs.segments.assets import segment_membership
from uds_pipelines.lib import connection
from uds_pipelines.lib.ingest.stage import FORMS, land_source
from uds_pipelines_tests.lib.identity.event_messages import identify, order, product, track
from uds_pipelines_tests.lib.ingest.events.helpers import drop, land, settings_for

AS_OF = "2026-11-01T15:00:00Z"  # event_messages.T0 is 12:00 that day


def _lake_with_sessions(data):
    settings = settings_for(data)
    forms = settings.inbox("forms")
    forms.mkdir(parents=True)
    # Ann opted in to marketing emails on a newsletter form; Bob never did
    form = {"submission_id": "nl-1", "email": "ann@mail.io", "consent_email_marketing": "yes",
            "submitted_at": "2026-10-01T00:00:00Z"}  # fmt: skip
    (forms / "newsletter.jsonl").write_text(json.dumps(form) + "\n")
    land_source(settings, FORMS)
    drop(settings, "sessions.jsonl", [
        # Ann browses anonymously, adds to cart, signs up and leaves
        product("Product Viewed", 0, anon="ann-browser"),
        product("Product Added", 2, anon="ann-browser"),
        identify(3, "u-ann", anon="ann-browser", email="Ann@Mail.io", firstName="Ann"),
        track("Checkout Started", 4, user="u-ann", anon="ann-browser"),
        # Bob does the same without consent
        product("Product Viewed", 0, anon="bob-browser"),
        product("Product Added", 1, anon="bob-browser"),
        identify(2, "u-bob", anon="bob-browser", email="bob@mail.io"),
        # Cy buys what he added
        product("Product Viewed", 0, anon="cy-phone"),
        product("Product Added", 1, anon="cy-phone"),
        identify(2, "u-cy", anon="cy-phone", email="cy@mail.io"),
        track("Checkout Started", 3, user="u-cy"),
        order(4, "o-1", 42.0, user="u-cy"),
    ])  # fmt: skip
    land(settings)
    return settings


def test_cart_abandoners_with_consent_are_exported(tmp_path):
    settings = _lake_with_sessions(tmp_path / "data")
    uds = UdsSettingsResource(data_dir=str(tmp_path / "data"), as_of=AS_OF)
    assets = [identity_inputs, identity_map, consent_ledger, customer_profiles, segment_membership,
              audience_members, audience_exports, event_funnels]  # fmt: skip
    with dg.instance_for_test() as instance:
        result = dg.materialize(assets, resources={"uds": uds}, instance=instance)
    assert result.success
    con = connection.for_settings(settings)
    try:
        profiles = con.execute(
            "SELECT email, orders_completed_90d, cart_abandoned_at IS NOT NULL, last_seen_at "
            "FROM customer_profiles ORDER BY email"
        ).fetchall()
        members = con.execute(
            "SELECT p.email FROM segment_membership s JOIN customer_profiles p USING (customer_id) "
            "WHERE segment = 'cart_abandoners' ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert [(e, n, a) for e, n, a, _ in profiles] == [
        ("ann@mail.io", 0, True), ("bob@mail.io", 0, True), ("cy@mail.io", 1, False),
    ]  # fmt: skip
    assert str(profiles[0][3]).startswith("2026-11-01 12:04")  # Ann's last event, not her form
    assert members == [("ann@mail.io",), ("bob@mail.io",)]
    folder = tmp_path / "data" / "exports" / "audiences" / "cart_recovery_email"
    manifest = json.loads((folder / "manifest.json").read_text())
    (export,) = folder.glob("*.csv")
    with export.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["email"] for r in rows] == ["ann@mail.io"]  # Bob has no consent
    assert json.dumps(manifest).count("cart_recovery_email") >= 1
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks[c.CHECK_TRAITS_VALID]
    profile_meta = result.asset_materializations_for_node("customer_profiles")[0].metadata
    assert "cart_abandoned_at" in profile_meta["computed_traits"].value
    funnel = result.asset_materializations_for_node("event_funnels")[0].metadata
    assert funnel["checkout_conversion"].value == 0.3333  # 3 viewed, 1 ordered
    table = re.sub(r" +", " ", funnel["funnels"].value)  # markdown columns are padded
    assert "| checkout | 3 | Checkout Started | 2 | 0.6667 | 0.6667 |" in table  # Ann and Cy of 3
