"""Steps that read their previous state and write the next (Stripe staging, identity inputs,
identity resolution): two runs at once (a materialization started by hand carries no exclusive
tag) would each keep only what they saw, or write parts of the same tables, so the second waits."""

from __future__ import annotations

import threading

import pytest

from uds_pipelines.lib import locks
from uds_pipelines.lib.identity.stage import build_inputs, resolve
from uds_pipelines.lib.staging.stripe import build_stripe_staging
from uds_pipelines_tests.generated_lake import landed_generated_lake

STEPS = {
    "stripe_staging": lambda s: build_stripe_staging(s.lake_dir, lock_dir=s.locks_dir),
    "identity_inputs": lambda s: build_inputs(s),
    "identity_map": lambda s: resolve(s, run_id="second"),
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    lake = landed_generated_lake(tmp_path_factory.mktemp("step_lock"), people=20, seed=3)
    build_inputs(lake)
    resolve(lake, run_id="first")
    return lake


@pytest.mark.parametrize("step", sorted(STEPS))
def test_a_second_run_waits_for_the_one_holding_the_state(settings, step) -> None:
    finished = threading.Event()
    second = threading.Thread(target=lambda: (STEPS[step](settings), finished.set()))
    with locks.step_lock(settings.locks_dir, step):
        second.start()
        assert not finished.wait(3.0)  # a run of this lake takes well under a second
    second.join(60)
    assert finished.is_set()
