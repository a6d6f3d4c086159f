"""Stripe Events API catch-up: paginated, retrying pull of /v1/events into inbox/stripe JSONL files."""

from __future__ import annotations

import json
import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import requests

from uds_pipelines.lib import lake, lake_views, safe_json
from uds_pipelines.lib.masking import mask_text
from uds_pipelines.lib.webhooks.spool import publish_file, rotated_name

log = logging.getLogger("uds_pipelines.ingest.stripe_api")

EVENTS_PATH = "/v1/events"
MAX_BACKOFF_SECONDS = 30.0
DAY_SECONDS = 86400
MISSING_KEY_REASON = "UDS_STRIPE_API_KEY is not set: Events API catch-up skipped"


class StripeApiError(RuntimeError):
    """The Events API refused the request or kept failing; the message never contains the key."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def skip_reason(api_key: str | None) -> str | None:
    """Why the catch-up cannot run, or None when it can."""
    return MISSING_KEY_REASON if not (api_key and api_key.strip()) else None


def catch_up_window(
    newest_landed_created: int | None, now: int, lookback_seconds: int = DAY_SECONDS, max_age_days: int = 30
) -> int:
    """`created[gte]` for the pull: a day before the newest landed event, never past Stripe's 30-day window."""
    floor = now - max_age_days * DAY_SECONDS
    if newest_landed_created is None:
        return floor
    return max(min(newest_landed_created, now) - lookback_seconds, floor)


def _landed_stripe_connection(lake_dir: Path):
    """A lake connection with the `landed_stripe` view registered."""
    con = lake.duckdb_connection()
    try:
        lake_views.register(con, lake_dir, ["landed_stripe"])
    except BaseException:
        con.close()
        raise
    return con


def newest_landed_created(lake_dir: Path) -> int | None:
    """Unix `created` of the newest landed Stripe event (`landed_stripe`), or None before anything landed."""
    with _landed_stripe_connection(lake_dir) as con:
        row = con.execute("SELECT max(epoch(created))::BIGINT FROM landed_stripe").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def landed_event_ids(lake_dir: Path, created_gte: int) -> set[str]:
    """Ids of landed events created at or after `created_gte` (the ones a catch-up could repeat)."""
    with _landed_stripe_connection(lake_dir) as con:
        rows = con.execute(
            "SELECT DISTINCT event_id FROM landed_stripe WHERE epoch(created) >= ?", [created_gte]
        ).fetchall()
    return {r[0] for r in rows if r[0] is not None}


def _retry_delay(response: requests.Response | None, attempt: int, backoff_base: float) -> float:
    if response is not None:
        header = response.headers.get("Retry-After")
        if header is not None:
            try:
                return min(max(float(header), 0.0), MAX_BACKOFF_SECONDS)
            except ValueError:
                pass  # an HTTP-date: fall back to our own backoff
    # Full jitter keeps many clients (or retries of many pages) from retrying in lockstep.
    return random.uniform(0, min(MAX_BACKOFF_SECONDS, backoff_base * 2**attempt))


def _error_message(response: requests.Response, api_key: str) -> str:
    body = safe_json.decode(response.content).value
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and "message" in error:
        message = str(error["message"])
    else:
        message = response.reason or "no error message"
    if api_key:
        message = message.replace(api_key, "***")
    return mask_text(message[:500])


def _should_retry(response: requests.Response) -> bool:
    if response.status_code == 429 or response.status_code >= 500:
        return response.headers.get("Stripe-Should-Retry", "true").lower() != "false"
    return response.headers.get("Stripe-Should-Retry", "").lower() == "true"


def _get_page(
    session: requests.Session,
    url: str,
    api_key: str,
    params: dict,
    max_retries: int,
    backoff_base: float,
    sleep: Callable[[float], None],
) -> dict:
    last_problem = "no attempt made"
    for attempt in range(max_retries + 1):
        response: requests.Response | None = None
        try:
            response = session.get(
                url, params=params, headers={"Authorization": f"Bearer {api_key}"}, timeout=(10, 60)
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            last_problem = f"connection error ({type(exc).__name__})"
        else:
            if response.status_code == 200:
                decoded = safe_json.decode(response.content, lenient=True)
                if not decoded.ok:
                    raise StripeApiError(
                        f"Stripe API GET /v1/events answered 200 with unusable JSON: {decoded.problem}", 200
                    )
                page = decoded.value
                if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                    raise StripeApiError("Stripe API GET /v1/events answered 200 without a list object", 200)
                return page
            if not _should_retry(response):
                raise StripeApiError(
                    f"Stripe API GET /v1/events answered {response.status_code}: "
                    f"{_error_message(response, api_key)}",
                    response.status_code,
                )
            last_problem = f"status {response.status_code}"
        if attempt < max_retries:
            delay = _retry_delay(response, attempt, backoff_base)
            log.warning(
                "Stripe Events API %s; retry %d/%d in %.2fs", last_problem, attempt + 1, max_retries, delay
            )
            sleep(delay)
    raise StripeApiError(f"Stripe API GET /v1/events failed after {max_retries + 1} attempts: {last_problem}")


def fetch_events(
    api_base: str,
    api_key: str,
    created_gte: int,
    *,
    session: requests.Session | None = None,
    page_limit: int = 100,
    max_retries: int = 6,
    backoff_base: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dict]:
    """Yield every event with `created >= created_gte`, newest first, each id once.

    Pages follow Stripe's `starting_after` cursor, which is stable while new events arrive
    (they sort before the cursor), so same-second bursts across a page boundary are not lost.
    """
    if skip_reason(api_key):
        raise StripeApiError(MISSING_KEY_REASON)
    own_session = session is None
    http = session or requests.Session()
    url = api_base.rstrip("/") + EVENTS_PATH
    seen: set[str] = set()
    starting_after: str | None = None
    try:
        while True:
            params: dict = {"limit": page_limit, "created[gte]": int(created_gte)}
            if starting_after:
                params["starting_after"] = starting_after
            page = _get_page(http, url, api_key, params, max_retries, backoff_base, sleep)
            data = page["data"]
            for event in data:
                event_id = event.get("id") if isinstance(event, dict) else None
                if event_id in seen:
                    continue
                if event_id:
                    seen.add(event_id)
                yield event
            last_id = data[-1].get("id") if data and isinstance(data[-1], dict) else None
            if not page.get("has_more") or not last_id or last_id == starting_after:
                break
            starting_after = last_id
    finally:
        if own_session:
            http.close()


def _stripe_target(inbox_dir: Path) -> Path:
    # Accept both the inbox root (Settings.inbox_dir) and the inbox/stripe folder itself.
    return inbox_dir if inbox_dir.name == "stripe" else inbox_dir / "stripe"


def _event_line(event: object) -> bytes:
    try:
        return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        # A lone surrogate cannot be UTF-8: escaped, it reaches landing, which quarantines the line.
        return json.dumps(event, separators=(",", ":")).encode("ascii") + b"\n"


def write_events_jsonl(
    events: Iterable[dict], inbox_dir: Path, known_event_ids: set[str] | None = None
) -> tuple[Path | None, int, int]:
    """Write events not already known to one new `inbox/stripe/events-api-*.jsonl`, atomically.

    The file is built outside the inbox (`<data_dir>/spool/stripe_api/`) and renamed in when
    complete. Repeats within `events` count as skipped. Returns (path or None, written, skipped).
    """
    target = _stripe_target(inbox_dir)
    work_dir = target.parent.parent / "spool" / "stripe_api"
    known = set(known_event_ids or ())
    # a tagged, private temp name: a pull killed mid-write leaves a file the next pull sweeps
    tmp = lake.temp_path_for(work_dir / f"events-api-{uuid.uuid4().hex}.jsonl")
    written = skipped = 0
    try:
        with open(tmp, "wb") as handle:
            for event in events:
                event_id = event.get("id") if isinstance(event, dict) else None
                if isinstance(event_id, str) and event_id in known:
                    skipped += 1
                    continue
                if isinstance(event_id, str):
                    known.add(event_id)
                # Id-less or odd records still go through: landing quarantines them with a reason.
                handle.write(_event_line(event))
                written += 1
            handle.flush()
            os.fsync(handle.fileno())
        if written == 0:
            return None, 0, skipped
        path = publish_file(tmp, target, rotated_name("events-api"))
    finally:
        tmp.unlink(missing_ok=True)
    log.info("Events API catch-up wrote %d event(s) to %s, %d already known", written, path.name, skipped)
    return path, written, skipped
