"""Identity resolution reads the previous map and writes the next: two runs at once (a
materialization started by hand carries no exclusive tag) would each keep only what they saw, so
the second waits for the first."""

from __future__ import annotations

import threading

from uds_pipelines.lib import locks
from uds_pipelines.lib.identity.stage import build_inputs, resolve
from uds_pipelines_tests.generated_lake import landed_generated_lake


def test_a_second_resolution_waits_for_the_one_holding_the_map(tmp_path) -> None:
    settings = landed_generated_lake(tmp_path, people=20, seed=3)
    build_inputs(settings)
    resolve(settings, run_id="first")
    finished = threading.Event()
    second = threading.Thread(target=lambda: (resolve(settings, run_id="second"), finished.set()))
    with locks.step_lock(settings.locks_dir, "identity_map"):
        second.start()
        assert not finished.wait(3.0)  # a run of this lake takes well under a second
    second.join(60)
    assert finished.is_set()
