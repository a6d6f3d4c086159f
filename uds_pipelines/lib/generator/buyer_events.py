"""Opt-in (`uds-generate --buyers N`): Stripe events of one-off buyers with a known purchase
process (purchase_process.py), so a demo lake has repeat buyers enough for the predicted traits
and the fitted parameters can be compared with the true ones (written to the ground truth).

Each buyer is a new Stripe customer (`buyer<i>@example.com`, no other source) with a
`customer.created` event at the first purchase and one `charge.succeeded` per purchase. The file
is `inbox/stripe/buyers_0000.jsonl`; nothing else the generator writes changes."""

from __future__ import annotations

import contextlib
import json
import random
from dataclasses import asdict
from pathlib import Path

from uds_pipelines.lib.generator import stripe_objects as so
from uds_pipelines.lib.generator.purchase_process import BuyerParams, simulate_purchases
from uds_pipelines.lib.generator.stripe_events import dumps

WEEK = 7 * 86400
# livelier than CDNOW (r 0.243, alpha 4.414 there), so a few hundred buyers give enough repeats
DEMO_BUYERS = BuyerParams(r=0.8, alpha=6.0, a=0.6, b=2.5, p=6.0, q=4.0, v=60.0)
CURRENCY = "usd"


def write_buyer_events(out_dir: Path, buyers: int, seed: int, start_ts: int, end_ts: int,
                       params: BuyerParams = DEMO_BUYERS) -> Path:  # fmt: skip
    """Write the buyers' events between `start_ts` and `end_ts` (epoch seconds); returns the file."""
    rng = random.Random(f"buyers-{seed}")
    purchases = simulate_purchases(buyers, params, seed, horizon_weeks=(end_ts - start_ts) / WEEK)
    seen: set[int] = set()
    lines = []
    for i, week, value in purchases:
        created = start_ts + int(week * WEEK)
        cid, email, name = f"cus_buyer{seed}x{i:06d}", f"buyer{i}@example.com", f"Buyer {i}"
        if i not in seen:
            seen.add(i)
            customer = so.customer(cid, created, email, name, None, None, CURRENCY, f"B{i:06d}")
            lines.append(so.envelope(rng, created, "customer.created", customer))
        charge = so.charge(rng, created + 1, cid, max(50, int(round(value * 100))), CURRENCY, email, name)
        lines.append(so.envelope(rng, created + 1, "charge.succeeded", charge))
    lines.sort(key=lambda event: event["created"])
    target = Path(out_dir) / "inbox" / "stripe" / "buyers_0000.jsonl"
    staging = Path(out_dir) / ".incoming" / target.name
    staging.parent.mkdir(parents=True, exist_ok=True)
    staging.write_text("".join(dumps(event) + "\n" for event in lines))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging.replace(target)
    with contextlib.suppress(OSError):  # only when empty: other writers may be using it
        staging.parent.rmdir()
    truth = Path(out_dir) / "ground_truth" / "buyer_params.json"
    truth.parent.mkdir(parents=True, exist_ok=True)
    truth.write_text(json.dumps({"buyers": buyers, "seed": seed, "currency": CURRENCY, "weeks": True,
                                 "params": asdict(params)}, indent=1) + "\n")  # fmt: skip
    return target
