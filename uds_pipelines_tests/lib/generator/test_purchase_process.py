"""Buyers with a known purchase process: the fit recovers their parameters, and the opt-in Stripe
events are deterministic and hold exactly the simulated purchases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from uds_pipelines.cli.generate import main
from uds_pipelines.lib.generator.buyer_events import DEMO_BUYERS, write_buyer_events
from uds_pipelines.lib.generator.purchase_process import BuyerParams, simulate_purchases, simulate_summary
from uds_pipelines.lib.predictions import bgnbd, gamma_gamma

START, END = 1_735_689_600, 1_793_491_200  # 2025-01-01 .. 2026-11-01


def test_fitting_simulated_buyers_recovers_their_parameters():
    truth = BuyerParams()
    x, t_x, T, m = simulate_summary(40_000, truth, seed=3)
    fit = bgnbd.fit(x, t_x, T)
    assert fit.ok
    for name, value in fit.params.items():
        assert value == pytest.approx(getattr(truth, name), rel=0.1), name
    spend = gamma_gamma.fit(x[x > 0], m[x > 0])
    assert spend.ok
    # the population mean spend p v / (q - 1) is what the CLV uses; it is tightly identified
    p, q, v = spend.values()
    assert p * v / (q - 1) == pytest.approx(truth.p * truth.v / (truth.q - 1), rel=0.03)


def test_buyer_events_are_deterministic_and_hold_every_simulated_purchase(tmp_path):
    first = write_buyer_events(tmp_path / "a", 50, 9, START, END).read_bytes()
    again = write_buyer_events(tmp_path / "b", 50, 9, START, END).read_bytes()
    assert first == again
    events = [json.loads(line) for line in first.decode().splitlines()]
    purchases = simulate_purchases(50, DEMO_BUYERS, 9, horizon_weeks=(END - START) / (7 * 86400))
    charges = [e for e in events if e["type"] == "charge.succeeded"]
    assert len(charges) == len(purchases)
    assert len([e for e in events if e["type"] == "customer.created"]) == len({i for i, _, _ in purchases})
    assert all(START <= e["created"] <= END for e in events)
    assert [e["created"] for e in events] == sorted(e["created"] for e in events)
    truth = json.loads((tmp_path / "a" / "ground_truth" / "buyer_params.json").read_text())
    assert truth["params"]["r"] == DEMO_BUYERS.r and truth["buyers"] == 50
    assert np.all([c["data"]["object"]["amount"] >= 50 for c in charges])


def test_uds_generate_writes_buyers_only_when_asked(tmp_path):
    common = [
        "--people",
        "5",
        "--seed",
        "4",
        "--start",
        "2025-01-01",
        "--end",
        "2026-11-01",
        "--workers",
        "1",
    ]
    assert main([*common, "--out", str(tmp_path / "plain")]) == 0
    assert main([*common, "--out", str(tmp_path / "buyers"), "--buyers", "20"]) == 0
    assert not (tmp_path / "plain" / "inbox" / "stripe" / "buyers_0000.jsonl").exists()
    written = (tmp_path / "buyers" / "inbox" / "stripe" / "buyers_0000.jsonl").read_bytes()
    assert written == write_buyer_events(tmp_path / "direct", 20, 4, START, END).read_bytes()
    # everything else the generator wrote is unchanged by the flag
    plain = sorted(p.relative_to(tmp_path / "plain") for p in (tmp_path / "plain" / "inbox").rglob("*.*"))
    for relative in plain:
        assert (tmp_path / "buyers" / relative).read_bytes() == (tmp_path / "plain" / relative).read_bytes()
