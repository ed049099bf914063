"""Issue 15, Redis flushed mid-sync: every job, guard and delayed hand-back is gone; the rows
are not, and the reconcile sweep syncs every one of them (each exactly once)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from aourly_fortnox.state import state

from .async_host import invoice_ids
from .async_support import Harness, PrivateRedis, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def test_redis_flushed_mid_sync_then_reconcile_syncs_everything(
    harness: Callable[..., Harness], sandbox: Any, private_redis: PrivateRedis
) -> None:
    # Five requests per 2 s: the push job soon finds the window full, gives its worker back
    # and comes again later through RQ's scheduler (a delayed job in Redis). No tick after
    # the worker's first, so only our reconcile can find what the flush loses.
    h = harness(AOURLY_FORTNOX_RATE_LIMIT="5/2", AOURLY_FORTNOX_TICK_INTERVAL=3600,
                AOURLY_FORTNOX_HEARTBEAT_INTERVAL=3600)
    h.connect()
    ids = invoice_ids(20)
    h.worker()
    h.send(*ids)
    queue = Queue(state(h.app).settings.queue_name, connection=private_redis.client)

    def between_jobs() -> bool:  # some synced, the rest waiting for a delayed job
        return (ScheduledJobRegistry(queue=queue).count == 1
                and StartedJobRegistry(queue=queue).count == 0
                and sum(r["state"] == "synced" for r in h.records().values()) >= 3)

    wait_for("a push job handed back to RQ's scheduler", between_jobs, timeout=60,
             interval=0.02)
    private_redis.client.flushall()
    synced = {i for i, r in h.records().items() if r["state"] == "synced"}
    assert 0 < len(synced) < len(ids)
    time.sleep(4)  # longer than the hand-back's delay: nothing carries the rows any more
    assert {i for i, r in h.records().items() if r["state"] == "synced"} == synced

    result = h.app.test_cli_runner().invoke(args=["fortnox", "reconcile"])
    assert "1 company push job(s) started for due items." in result.output, result.output
    wait_for("every invoice synced", lambda: h.synced(ids), timeout=60)
    assert h.copies() == {i: 1 for i in ids}
    print(f"{len(synced)} of {len(ids)} synced before the flush; the sweep did the rest")
