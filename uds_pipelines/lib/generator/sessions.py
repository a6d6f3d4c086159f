"""Behavioural event sessions (`uds-generate --sessions N`): what an analytics.js site of a shop sends.

Opt-in: nothing here runs, and no random number is drawn from the other sources' generator, unless
sessions are asked for, so every other output stays byte-identical. Per web visitor (about 70% of
the people): one or two devices (an `anonymousId` each), sessions spread from their first visit to
the end date, anonymous browsing (`page`, "Product Viewed") until sign-up, where an identify call
carries the person's real email, name and phone (the same as their Stripe and form records), then
logged-in sessions. Carts follow Segment's E-commerce spec v2: "Product Added", then "Checkout
Started" and "Order Completed" (`order_id`, `revenue`, `products`) within minutes, a few hours
later, or never (an abandoned cart). Some families share a computer: one `anonymousId` used by
several users, which must link nobody. Every device sends its consent manager's preferences in
`context.consent.categoryPreferences`, and some visitors change their mind once.

Lines are written in the stored message format of docs/events.md ("What is stored"), from string
templates (a JSON encoder per event would be most of the cost); the plan is drawn with numpy.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field

import numpy as np

from uds_pipelines.lib.generator.people import Person
from uds_pipelines.lib.generator.sessions_truth import SessionTruth
from uds_pipelines.lib.generator.writer import Inbox

LINES_PER_FILE = 100_000
WEB_SHARE, SIGNUP_SHARE, SECOND_DEVICE_SHARE, SHARED_DEVICE_SHARE = 0.7, 0.85, 0.25, 0.03
CART_SHARE, ORDER_SHARE, LATE_ORDER_SHARE = 0.35, 0.55, 0.08
CATEGORIES = ("Shoes", "Jackets", "Bags", "Hats", "Gloves")
# (product_id, sku, name, price, category)
PRODUCTS = [
    (f"prod_{i:04d}", f"SKU-{i:04d}", f"Item {i}", round(5 + (i * 37 % 190) + 0.99, 2), CATEGORIES[i % 5])
    for i in range(300)
]
_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
_LIB = '{"name":"analytics.js","version":"npm:next-1.70.0"}'
_SEED_SALT = 0x5E55  # sessions draw from their own generator, never the other sources'


@dataclass
class SessionsSummary:
    events: int = 0
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time: on a shared machine the wall clock says little

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


_MINUTES: dict[int, str] = {}


def _iso(ms: int) -> str:
    """`2026-11-01T10:00:00.000Z`; a session's events share their minutes, so the formatted minute is
    kept (strftime per event was most of the cost)."""
    minute, rest = divmod(ms, 60_000)
    prefix = _MINUTES.get(minute)
    if prefix is None:
        if len(_MINUTES) > 1 << 16:
            _MINUTES.clear()
        prefix = _MINUTES[minute] = time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(minute * 60))
    return f"{prefix}{rest // 1000:02d}.{rest % 1000:03d}Z"


def _q(value: str | None) -> str:
    return "null" if value is None else json.dumps(value)


class _Writer:
    """Turns events into lines and lines into inbox files of LINES_PER_FILE."""

    def __init__(self, inbox: Inbox, seed: int, truth: SessionTruth) -> None:
        self.inbox, self.seed, self.truth = inbox, seed, truth
        self.lines: list[bytes] = []
        self.summary = SessionsSummary()

    def emit(self, kind: str, ms: int, user: str | None, anon: str, context: str, body: str) -> None:
        n = self.summary.events
        self.summary.events += 1
        iso, sent = _iso(ms), _iso(ms + 1500)
        received = _iso(ms + 1700)
        self.lines.append(
            f'{{"type":"{kind}","messageId":"ajs-next-{self.seed:x}-{n:012x}","source":"website",'
            f'"userId":{_q(user)},"anonymousId":"{anon}",{body},"context":{context},"timestamp":"{iso}",'
            f'"originalTimestamp":"{iso}","sentAt":"{sent}","receivedAt":"{received}"}}\n'.encode()
        )
        if len(self.lines) >= LINES_PER_FILE:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            name = f"events/events_sessions_{self.seed}_{len(self.summary.files):04d}.jsonl"
            self.summary.files.append(self.inbox.write_bytes(name, self.lines))
            self.lines = []


def _context(ip: int, prefs: tuple[bool, bool], path: str, campaign: str = "") -> str:
    consent = f'{{"categoryPreferences":{{"Advertising":{str(prefs[0]).lower()},"Analytics":{str(prefs[1]).lower()}}}}}'
    page = f'{{"path":"{path}","url":"https://shop.example.com{path}","referrer":"","title":"Shop"}}'
    return (
        f'{{"library":{_LIB},"userAgent":"{_UA}","ip":"203.0.113.{ip % 250}","page":{page},'
        f'"consent":{consent}{campaign}}}'
    )


def _between(rng: random.Random, low: int, high: int) -> int:
    """A uniform int in [low, high): `randrange` costs several times more per call."""
    return low + int(rng.random() * (high - low))


def _track(event: str, properties: str) -> str:
    return f'"event":"{event}","properties":{properties},"traits":null'


def _identify(p: Person) -> str:
    traits = {"email": p.email, "firstName": p.first_name, "lastName": p.last_name, "phone": p.phone_e164}
    return f'"event":null,"properties":{{}},"traits":{json.dumps(traits, ensure_ascii=False)}'


def write_sessions(
    inbox: Inbox, persons: list[Person], first: dict[str, int], end_ts: int, seed: int, sessions: int
) -> tuple[SessionsSummary, SessionTruth]:
    """About `sessions` sessions over the web visitors among `persons`, before `end_ts`."""
    began, began_cpu = time.perf_counter(), time.process_time()
    rng = np.random.default_rng([seed, _SEED_SALT])  # the whole-population draws
    draw = random.Random(seed * 65_537 + _SEED_SALT)  # per-session draws: far cheaper per call
    truth = SessionTruth(end_ts)
    out = _Writer(inbox, seed, truth)
    visitors = [p for p, web in zip(persons, rng.random(len(persons)) < WEB_SHARE, strict=True) if web]
    if not visitors or sessions < 1:
        return out.summary, truth
    per_person = rng.multinomial(sessions, rng.dirichlet(np.full(len(visitors), 0.8)))
    shared = _shared_devices(rng, len(visitors))
    for index, (person, count) in enumerate(zip(visitors, per_person, strict=True)):
        _visitor(
            draw, out, truth, person, index, int(count), first[person.person_id], end_ts, shared.get(index)
        )
    out.flush()
    out.summary.seconds = time.perf_counter() - began
    out.summary.cpu_seconds = time.process_time() - began_cpu
    return out.summary, truth


def _shared_devices(rng: np.random.Generator, visitors: int) -> dict[int, str]:
    """Visitor index -> the family computer they share with one or two others."""
    chosen = rng.permutation(visitors)[: int(visitors * SHARED_DEVICE_SHARE)]
    out: dict[int, str] = {}
    start = 0
    while start + 1 < len(chosen):
        size = 2 + int(rng.random() < 0.3)
        device = f"shared-{start:06d}-{int(rng.integers(1 << 32)):08x}"
        out.update((int(v), device) for v in chosen[start : start + size])
        start += size
    return out


def _visitor(rng, out: _Writer, truth: SessionTruth, p: Person, index: int, count: int, first: int, end: int,
             shared: str | None) -> None:  # fmt: skip
    if count < 1:
        return
    user = f"usr_{index:07d}{rng.getrandbits(24):06x}"
    devices = [f"{rng.getrandbits(62):016x}-{index:08x}"]
    if rng.random() < SECOND_DEVICE_SHARE:
        devices.append(f"{rng.getrandbits(62):016x}-{index:08x}b")
    prefs = {d: (rng.random() < 0.6, rng.random() < 0.8) for d in devices}
    if shared:
        prefs[shared] = (True, True)
    last = max(first + 1, end - 3 * 3600)
    starts = sorted(rng.randrange(first, last) * 1000 for _ in range(count))
    signup = rng.randrange(count) if rng.random() < SIGNUP_SHARE else count  # never: stays anonymous
    change_at = rng.randrange(count) if rng.random() < 0.1 else -1
    for s, start in enumerate(starts):
        known = s >= signup
        # sign-up happens on the first device, which ties the anonymous browsing before it to the user
        device = devices[0] if s <= signup or len(devices) == 1 or rng.random() < 0.6 else devices[1]
        if shared and (s == signup + 1 or (s > signup and rng.random() < 0.3)):
            device = shared
        if s == change_at:  # the visitor changes their mind about advertising, once
            prefs[device] = (not prefs[device][0], prefs[device][1])
        truth.device(device, p.person_id, user if known else None)
        _session(rng, out, truth, p, user if known else None, device, prefs[device], start, end, s == signup)


def _session(rng, out: _Writer, truth: SessionTruth, p: Person, user: str | None, device: str,
             prefs: tuple[bool, bool], ms: int, end: int, signs_up: bool) -> None:  # fmt: skip
    end_ms = end * 1000
    campaign = (
        ',"campaign":{"source":"newsletter","medium":"email","name":"winter_sale"}'
        if rng.random() < 0.2
        else ""
    )
    on_shared = device.startswith("shared-")
    # a family computer: the first page is anonymous, then the person logs in (identify below)
    out.emit("page", ms, None if on_shared else user, device, _context(ms, prefs, "/", campaign),
             '"name":"Home","properties":{"path":"/"},"traits":null')  # fmt: skip
    if signs_up or on_shared:
        ms += _between(rng, 20_000, 120_000)
        out.emit("identify", ms, user, device, _context(ms, prefs, "/signup"), _identify(p))
        if signs_up:
            out.emit(
                "track", ms + 50, user, device, _context(ms, prefs, "/signup"), _track("Signed Up", "{}")
            )
    cart: list[int] = []
    for _ in range(_between(rng, 1, 6)):
        ms += _between(rng, 5_000, 90_000)
        pick = int(rng.random() * len(PRODUCTS))
        prod = PRODUCTS[pick]
        path = f"/p/{prod[0]}"
        props = (
            f'{{"product_id":"{prod[0]}","sku":"{prod[1]}","name":"{prod[2]}","price":{prod[3]},'
            f'"category":"{prod[4]}"}}'
        )
        out.emit("track", ms, user, device, _context(ms, prefs, path), _track("Product Viewed", props))
        if rng.random() < CART_SHARE / 2 and not (on_shared and user is None):
            ms += _between(rng, 3_000, 30_000)
            cart.append(pick)
            added = props[:-1] + f',"cart_id":"cart_{device[:8]}","quantity":1}}'
            out.emit("track", ms, user, device, _context(ms, prefs, path), _track("Product Added", added))
            truth.added(p.person_id, ms)
    if not cart or rng.random() >= ORDER_SHARE:
        return  # browsed, or abandoned the cart
    ms += _between(rng, 60_000, 600_000)
    late = rng.random() < LATE_ORDER_SHARE
    done = ms + (_between(rng, 2 * 3600_000, 6 * 3600_000) if late else _between(rng, 60_000, 1_800_000))
    if done >= end_ms:
        return
    items = [PRODUCTS[i] for i in cart]
    revenue = round(sum(item[3] for item in items), 2)
    products = ",".join(
        f'{{"product_id":"{i[0]}","sku":"{i[1]}","price":{i[3]},"quantity":1}}' for i in items
    )
    checkout = f'{{"revenue":{revenue},"currency":"USD","products":[{products}]}}'
    out.emit(
        "track", ms, user, device, _context(ms, prefs, "/checkout"), _track("Checkout Started", checkout)
    )
    order = f'{{"order_id":"ord_{out.summary.events:010d}","total":{revenue},' + checkout[1:]
    out.emit("track", done, user, device, _context(done, prefs, "/thanks"), _track("Order Completed", order))
    truth.ordered(p.person_id, done)
