"""Issue 19, Redis lost: the private Redis is flushed and restarted (empty) in the middle of a
sync. Every job, guard, delayed hand-back and rate-limit window is gone; the rows are not.
The workers' tick reconciles, and every invoice reaches Fortnox exactly once.

Size: ``AOURLY_FAULTS_ITEMS`` (200) invoices.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from .async_host import invoice_ids
from .async_support import Harness, PrivateRedis, wait_for
from .fault_support import Figures, scaled

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.faults]

DOWN_SECONDS = 3


def test_redis_flushed_and_restarted_mid_sync_then_the_tick_syncs_everything(
    harness: Callable[..., Harness], sandbox: Any, private_redis: PrivateRedis
) -> None:
    items = scaled("ITEMS", 200)
    # 20 requests per second: the sync lasts long enough to lose Redis in its middle.
    h = harness(AOURLY_FORTNOX_RATE_LIMIT="20/1")
    h.connect()
    ids = invoice_ids(items, customers=max(1, items // 10))
    workers = [h.worker(f"w{n + 1}") for n in range(4)]
    started = time.monotonic()
    h.send(*ids)

    def synced() -> int:
        return sum(r["state"] == "synced" for r in h.records().values())

    wait_for("a third synced", lambda: synced() >= items // 3, timeout=120, interval=0.05)
    private_redis.client.flushall()
    private_redis.stop()
    at_loss = synced()
    time.sleep(DOWN_SECONDS)
    private_redis.start()  # the same port, empty
    restarted = 0
    for n, worker in enumerate(list(workers)):  # a worker that died with Redis is restarted
        if worker.proc.poll() is not None:
            workers.append(h.worker(f"w{n + 1}-again"))
            restarted += 1
    wait_for("every invoice synced", lambda: h.synced(ids), timeout=300, interval=0.5)
    elapsed = time.monotonic() - started
    figures = Figures("Redis lost", faults=2)  # a flush and a restart
    figures.count(h.copies(), ids)
    figures.extra = {"synced when Redis went": at_loss, "Redis down (s)": DOWN_SECONDS,
                     "workers restarted": restarted, "wall (s)": round(elapsed, 1)}
    figures.print()
    assert 0 < at_loss < items
    assert (figures.duplicates, figures.lost) == (0, 0)
    assert {r["state"] for r in h.records().values()} == {"synced"}
