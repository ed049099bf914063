"""Issue 19, bursts: a 429 is Fortnox's budget running out, not the row's fault. A row that
meets more 429s than ``AOURLY_FORTNOX_MAX_ATTEMPTS`` still reaches Fortnox, counting none of
them as an attempt (they handed rows to the owner after a few bursts before)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from aourly_fortnox.sync import push

from .async_support import Harness, PrivateRedis, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def test_more_429s_than_the_retry_cap_still_sync_the_invoice_and_count_no_attempt(
    harness: Callable[..., Harness], sandbox: Any
) -> None:
    h = harness(AOURLY_FORTNOX_MAX_ATTEMPTS=2)
    h.connect()
    sandbox.admin("DELETE", "/_admin/stats")
    sandbox.faults(burst_429=5)
    h.worker()
    seen: set[tuple[str, int, str | None]] = set()

    def synced() -> bool:
        for kind in ("customer", "invoice"):
            for row in h.records(object_type=kind).values():
                seen.add((row["state"], row["attempts"], row["error_code"]))
        return h.synced(["c1.1"])

    h.send("c1.1")
    wait_for("the invoice synced", synced, timeout=60, interval=0.05)
    assert sandbox.stats()[f"{sandbox.client_id}/1001"]["429"] == 5
    assert h.copies() == {"c1.1": 1}
    assert {attempts for _, attempts, _ in seen} == {0}
    assert not {code for _, _, code in seen} & {"RETRYING", "RETRIES_EXHAUSTED"}


def test_a_post_our_limiter_refused_goes_next_time_without_a_search_first(
    harness: Callable[..., Harness], sandbox: Any, private_redis: PrivateRedis
) -> None:
    """Our limiter refuses a create before it is sent (the window is full): the row goes back
    without the mark "a POST may have left", so its next attempt is the POST alone, not a
    search for an invoice that was never sent and then the POST (bench/push.py measured the
    searches as 0.043 requests per invoice)."""
    # One request per 3 s: the customer's POST takes the window, the invoice's is refused
    # (a push waits at most AOURLY_FORTNOX_LIMITER_MAX_WAIT, 0.5 s). No sweep, no worker.
    h = harness(AOURLY_FORTNOX_RATE_LIMIT="1/3", AOURLY_FORTNOX_TICK_INTERVAL=3600)
    h.connect()
    h.send("c1.1")
    private_redis.client.flushdb()  # the queued push job and the connect's requests
    with h.app.app_context():
        push.push_due("acme")
    row = h.records()["c1.1"]
    assert (row["state"], row["remote_id"]) == ("pending", None)
    assert h.records(object_type="customer")["c1"]["state"] == "synced"
    sandbox.admin("DELETE", "/_admin/stats")
    time.sleep(3.2)
    with h.app.app_context():
        push.push_due("acme")
    assert h.synced(["c1.1"])
    assert sandbox.stats()[f"{sandbox.client_id}/1001"]["requests"] == 1  # the POST alone
    assert h.copies() == {"c1.1": 1}
