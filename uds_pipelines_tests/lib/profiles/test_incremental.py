"""Profiles recomputed for changed customers only give the whole run's answer: run after run of
random changes to a generated lake's Stripe objects, person records and identity map (as staging,
identity inputs and resolution make them), each incremental run is compared with a rebuild of a
copy of the same lake."""

from __future__ import annotations

import random
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest

from uds_pipelines.lib import catalog, connection, keyed_parts, lake_views, locks
from uds_pipelines.lib.config import Settings
from uds_pipelines.lib.identity.stage import build_inputs, resolve
from uds_pipelines.lib.profiles import incremental
from uds_pipelines.lib.profiles.stage import build_profiles
from uds_pipelines_tests.generated_lake import landed_generated_lake

CHARGE_COLUMNS = "charge_id, customer_id, invoice_id, amount, amount_refunded, currency, status, paid, refunded, created"


@pytest.fixture(autouse=True)
def _part_path_at_any_share(monkeypatch) -> None:
    """The lake is small: a round may touch over half of its customers, where the part path would
    step aside."""
    monkeypatch.setattr(incremental, "MAX_SHARE", 100.0)


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Settings:
    settings = landed_generated_lake(tmp_path_factory.mktemp("profiles_incremental"), people=80, seed=41)
    build_inputs(settings)
    resolve(settings, run_id="test")
    return settings


def _profiles(settings: Settings) -> pd.DataFrame:
    frame = pd.read_parquet(catalog.path(settings.lake_dir, "customer_profiles"))
    return frame.sort_values("customer_id").reset_index(drop=True)


def _picked(table: str, key: str, n: int, seed: int, where: str = "true") -> str:
    """A SELECT of `n` rows of `table` chosen by a seeded hash (the same rows whatever the file order)."""
    return f"SELECT * FROM {table} WHERE {where} ORDER BY hash({key}, {seed}), {key} LIMIT {n}"


def _change_stripe(con, lake_dir: Path, rng: random.Random, serial: int) -> None:
    """New charges of known and unknown Stripe customers, new versions of some (a refund total, a
    failure), refund objects, an invoice paid by a staged charge, a subscription cancelled."""
    seed = rng.randrange(1_000_000)
    fresh_charges = f"""
        SELECT 'ch_new_{serial}_' || row_number() OVER () AS charge_id, customer_id, NULL::VARCHAR AS invoice_id,
               (1000 + {serial})::BIGINT AS amount, 0::BIGINT AS amount_refunded, currency, 'succeeded' AS status, true AS paid,
               false AS refunded, created + INTERVAL 3 DAY AS created
        FROM ({_picked("stripe_charges", "charge_id", 4, seed)})
        UNION ALL
        SELECT 'ch_orphan_{serial}', 'cus_nobody_{serial}', NULL, 500::BIGINT, 0::BIGINT, 'usd', 'succeeded', true, false,
               TIMESTAMPTZ '2026-10-01 00:00:00+00'
        UNION ALL
        SELECT charge_id, customer_id, invoice_id, amount, least(amount, 100 * {serial})::BIGINT, currency,
               CASE WHEN hash(charge_id) % 3 = 0 THEN 'failed' ELSE status END, paid, refunded, created
        FROM ({_picked("stripe_charges", "charge_id", 3, seed + 1)})
    """
    keyed_parts.replace_rows(con, lake_dir, "stripe_charges", f"SELECT charge_id FROM ({fresh_charges})",
                             f"SELECT {CHARGE_COLUMNS} FROM ({fresh_charges})")  # fmt: skip
    refunds = f"""
        SELECT 're_new_{serial}_' || row_number() OVER () AS refund_id, charge_id, (amount // 2)::BIGINT AS amount, currency,
               'succeeded' AS status, created + INTERVAL 1 DAY AS created
        FROM ({_picked("stripe_charges", "charge_id", 3, seed + 2, "status = 'succeeded'")})
    """
    keyed_parts.replace_rows(con, lake_dir, "stripe_refunds", f"SELECT refund_id FROM ({refunds})", refunds)
    invoices = f"""
        SELECT 'in_new_{serial}' AS invoice_id, customer_id, NULL::VARCHAR AS subscription_id, charge_id,
               amount AS amount_paid, currency, 'paid' AS status, created AS paid_at, created
        FROM ({_picked("stripe_charges", "charge_id", 1, seed + 3, "status = 'succeeded'")})
    """
    keyed_parts.replace_rows(con, lake_dir, "stripe_invoices", f"SELECT invoice_id FROM ({invoices})", invoices)
    subscriptions = f"""
        SELECT subscription_id, customer_id, 'canceled' AS status, currency, mrr_minor, created,
               created + INTERVAL 40 DAY AS canceled_at, plan
        FROM ({_picked("stripe_subscriptions", "subscription_id", 2, seed + 4, "status = 'active'")})
    """
    keyed_parts.replace_rows(
        con, lake_dir, "stripe_subscriptions", f"SELECT subscription_id FROM ({subscriptions})", subscriptions
    )


def _change_records(con, lake_dir: Path, rng: random.Random, serial: int) -> None:
    """Person records change (a new e-mail with its raw hash, or only their stored normalized
    value, as a normalizer upgrade would); the map moves records to another customer, to a new one,
    or loses them."""
    seed = rng.randrange(1_000_000)
    records = catalog.table("person_records").columns
    edited = f"""
        SELECT * REPLACE ('new{serial}_' || record_id || '@mail.io' AS email,
                          'new{serial}_' || record_id || '@mail.io' AS email_n,
                          md5(source_hash || '{serial}') AS source_hash,
                          observed_at + INTERVAL 1 DAY AS observed_at)
        FROM ({_picked("person_records", "record_id", 3, seed)})
        UNION ALL
        SELECT * REPLACE (upper(coalesce(last_name_n, 'x')) AS last_name_n)
        FROM ({_picked("person_records", "record_id", 2, seed + 1)})
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE _edited AS {edited}")
    lake_views.write_query(con, lake_dir, "person_records", f"""
        SELECT {", ".join(records)} FROM person_records ANTI JOIN _edited USING (source, record_id)
        UNION ALL SELECT {", ".join(records)} FROM _edited
    """)  # fmt: skip
    customers = [r[0] for r in con.execute("SELECT DISTINCT customer_id FROM identity_map ORDER BY 1").fetchall()]
    target = customers[rng.randrange(len(customers))]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _moves AS
        SELECT source, record_id,
               CASE WHEN n % 3 = 0 THEN '{target}' WHEN n % 3 = 1 THEN 'cust_split_{serial}_' || n END AS customer_id
        FROM (SELECT source, record_id, row_number() OVER (ORDER BY hash(record_id, {seed}), record_id) AS n
              FROM identity_map) WHERE n <= 6
    """)  # fmt: skip
    columns = catalog.table("identity_map").columns
    moved = ", ".join(f"coalesce(v.customer_id, m.{c}) AS {c}" if c == "customer_id" else f"m.{c}" for c in columns)
    lake_views.write_query(con, lake_dir, "identity_map", f"""
        SELECT {moved} FROM identity_map m LEFT JOIN _moves v USING (source, record_id)
        -- a move to NULL: the record is gone from the map
        WHERE v.record_id IS NULL OR v.customer_id IS NOT NULL
    """)  # fmt: skip


def _rebuilt_copy(settings: Settings, root: Path, **env: str) -> pd.DataFrame:
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(settings.data_dir, root)
    copy = Settings.from_env({"UDS_DATA_DIR": str(root), "UDS_AS_OF": settings.as_of().isoformat(), **env})
    stage = build_profiles(copy, rebuild=True)
    assert stage.scope["scope"] == "whole"
    return _profiles(copy)


def test_changed_customers_only_give_the_whole_runs_profiles(lake: Settings, tmp_path) -> None:
    first = build_profiles(lake)
    assert first.scope["scope"] == "whole" and first.scope["reason"] == "no profile state"
    rng = random.Random(5)
    parts_run = 0
    for serial in range(1, 9):
        con = connection.for_settings(lake)
        try:
            lake_views.register(con, lake.lake_dir, catalog.TABLES)
            if serial % 2:
                _change_stripe(con, lake.lake_dir, rng, serial)
            if serial % 2 == 0 or serial % 3 == 0:
                _change_records(con, lake.lake_dir, rng, serial)
        finally:
            con.close()
        stage = build_profiles(lake)
        assert stage.scope["scope"] == "part", stage.scope
        parts_run += 1
        incremental_profiles = _profiles(lake)
        whole = _rebuilt_copy(lake, tmp_path / "rebuilt")
        pd.testing.assert_frame_equal(incremental_profiles, whole, check_exact=False, rtol=1e-12)
        assert 0 < stage.scope["customers_recomputed"] < len(whole)
    assert parts_run == 8


def test_a_run_with_nothing_new_recomputes_nobody(lake: Settings) -> None:
    build_profiles(lake)
    before = _profiles(lake)
    stage = build_profiles(lake)
    assert stage.scope == {"scope": "part", "reason": "changed customers only", "customers_recomputed": 0}
    pd.testing.assert_frame_equal(_profiles(lake), before)


def test_other_settings_or_a_rebuild_compute_every_customer(lake: Settings) -> None:
    build_profiles(lake)
    assert build_profiles(lake, rebuild=True).scope["reason"] == "rebuild asked for"
    other = Settings.from_env({"UDS_DATA_DIR": str(lake.data_dir), "UDS_AS_OF": lake.as_of().isoformat(),
                               "UDS_DEFAULT_REGION": "GB"})  # fmt: skip
    assert build_profiles(other).scope["reason"] == "the profile SQL or settings changed"


def test_new_exchange_rates_reach_every_profile_without_recomputing_it(lake: Settings, tmp_path) -> None:
    """The reporting-currency value is converted from the state's totals at every run: a daily
    rates file does not make every run a whole one."""
    build_profiles(lake)
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate,date\nUSD,1,2025-01-02\nEUR,1.5,2025-01-02\nGBP,2,2025-01-02\n")
    env = {"UDS_FX_RATES": str(rates)}
    other = Settings.from_env({"UDS_DATA_DIR": str(lake.data_dir), "UDS_AS_OF": lake.as_of().isoformat(), **env})
    before = _profiles(lake)
    stage = build_profiles(other)
    assert stage.scope["customers_recomputed"] == 0
    after = _profiles(other)
    assert (after["lifetime_value_reporting"] != before["lifetime_value_reporting"]).any()
    pd.testing.assert_frame_equal(after, _rebuilt_copy(other, tmp_path / "rebuilt", **env),
                                  check_exact=False, rtol=1e-12)  # fmt: skip


def test_a_state_row_erasure_removed_is_computed_again(lake: Settings) -> None:
    """Erasure deletes any row whose text names an erased person: another customer's state row
    holding the same address goes, though nothing of theirs changed."""
    build_profiles(lake)
    before = _profiles(lake)
    gone = before.loc[before["email"].notna(), "customer_id"].iloc[0]
    con = connection.for_settings(lake)
    try:
        lake_views.register(con, lake.lake_dir, [incremental.STATE])
        lake_views.write_query(con, lake.lake_dir, incremental.STATE,
                               f"SELECT * FROM {incremental.STATE} WHERE customer_id <> '{gone}'")  # fmt: skip
    finally:
        con.close()
    stage = build_profiles(lake)
    assert stage.scope["customers_recomputed"] == 1
    pd.testing.assert_frame_equal(_profiles(lake), before)


# every table the step writes after the profiles, and its watermark
SAVED = [*(n for n, t in catalog.TABLES.items() if t.owner == "customer_profiles" and n != "customer_profiles"),
         "stage_watermarks"]  # fmt: skip


def _read_map(settings: Settings) -> pd.DataFrame:
    return pd.read_parquet(catalog.path(settings.lake_dir, "identity_map"))


def _write_map(settings: Settings, frame: pd.DataFrame) -> None:
    con = connection.for_settings(settings)
    try:
        con.register("_map_frame", frame)
        lake_views.write_query(con, settings.lake_dir, "identity_map", "SELECT * FROM _map_frame")
    finally:
        con.close()


@pytest.mark.parametrize("crash_at", SAVED)
def test_a_crash_while_saving_the_state_recomputes_rather_than_skips(lake: Settings, tmp_path, monkeypatch,
                                                                     crash_at) -> None:  # fmt: skip
    """A crash after the profiles, then the change undone (a merge split again): the next run still
    finds every customer the crashed run changed."""
    build_profiles(lake)
    before = _read_map(lake)
    con = connection.for_settings(lake)
    try:
        lake_views.register(con, lake.lake_dir, catalog.TABLES)
        rng = random.Random(len(crash_at))
        _change_stripe(con, lake.lake_dir, rng, 90 + len(crash_at))
        _change_records(con, lake.lake_dir, rng, 90 + len(crash_at))
    finally:
        con.close()
    write_query, write_arrow = lake_views.write_query, lake_views.write_arrow

    def check(name: str) -> None:
        if name == crash_at:
            raise RuntimeError(f"killed while writing {name}")

    def query(con, lake_dir, name, *args, **kwargs):
        check(name)
        return write_query(con, lake_dir, name, *args, **kwargs)

    def arrow(lake_dir, name, *args, **kwargs):  # the watermark's writer
        check(name)
        return write_arrow(lake_dir, name, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(lake_views, "write_query", query)
        patched.setattr(lake_views, "write_arrow", arrow)
        with pytest.raises(RuntimeError, match="killed"):
            build_profiles(lake)
    _write_map(lake, before)  # the records' moves undone
    build_profiles(lake)
    pd.testing.assert_frame_equal(_profiles(lake), _rebuilt_copy(lake, tmp_path / "rebuilt"),
                                  check_exact=False, rtol=1e-12)  # fmt: skip


def test_a_record_gone_from_every_table_that_names_it_is_noticed(lake: Settings, tmp_path) -> None:
    """Erasure deletes by record id from every table with one: the customer's other records stay."""
    build_profiles(lake)
    records = pd.read_parquet(catalog.path(lake.lake_dir, "person_records"))
    forms = records[records["source"] == "form"]
    mapped = _read_map(lake).merge(forms[["source", "record_id"]])
    shared = mapped.groupby("customer_id")["record_id"].transform("size") > 1
    gone = mapped.loc[shared, "record_id"].iloc[0]  # a customer keeps a profile without it
    con = connection.for_settings(lake)
    try:
        for name, table in catalog.TABLES.items():
            path = catalog.path(lake.lake_dir, name)
            if table.kind == "file" and {"source", "record_id"} <= set(table.columns) and path.exists():
                lake_views.register(con, lake.lake_dir, [name])
                lake_views.write_query(con, lake.lake_dir, name,
                                       f"SELECT * FROM {name} WHERE record_id IS DISTINCT FROM '{gone}'")  # fmt: skip
    finally:
        con.close()
    assert build_profiles(lake).scope["scope"] == "part"
    pd.testing.assert_frame_equal(_profiles(lake), _rebuilt_copy(lake, tmp_path / "rebuilt"),
                                  check_exact=False, rtol=1e-12)  # fmt: skip


def test_stripe_objects_gone_with_their_part_make_a_whole_run(lake: Settings, tmp_path) -> None:
    """A rebuild of Stripe staging after retention writes new parts without the objects whose
    events are gone: their owners hold no new part, so the whole base is computed."""
    build_profiles(lake)
    con = connection.for_settings(lake)
    try:
        lake_views.register(con, lake.lake_dir, catalog.TABLES)
        owner = con.execute("SELECT customer_id FROM stripe_charges WHERE status = 'succeeded' "
                            "ORDER BY customer_id LIMIT 1").fetchone()[0]  # fmt: skip
        for name in ("stripe_charges", "stripe_invoices"):
            kept = f"SELECT * FROM {name} WHERE customer_id IS DISTINCT FROM '{owner}'"
            old = lake_views.table_files(lake.lake_dir, name)
            lake_views.write_query(con, lake.lake_dir, name, kept, batch_name=keyed_parts.new_part_name())
            for path in old:
                path.unlink()
    finally:
        con.close()
    assert build_profiles(lake).scope["reason"] == "a Stripe part read before is gone"
    pd.testing.assert_frame_equal(_profiles(lake), _rebuilt_copy(lake, tmp_path / "rebuilt"),
                                  check_exact=False, rtol=1e-12)  # fmt: skip


def test_a_second_run_waits_for_the_one_holding_the_state(lake: Settings) -> None:
    """Two runs at once would each merge into the state they read (a hand-started materialization
    carries no exclusive tag): the second waits for the first."""
    build_profiles(lake)
    finished = threading.Event()
    second = threading.Thread(target=lambda: (build_profiles(lake), finished.set()))
    with locks.step_lock(lake.locks_dir, incremental.STEP):
        second.start()
        assert not finished.wait(3.0)  # a run of this lake takes well under a second
    second.join(60)
    assert finished.is_set()
