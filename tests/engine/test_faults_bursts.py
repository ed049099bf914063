"""Issue 19, bursts: the sandbox answers 10 % of requests with a 5xx (half of the failed
writes applied all the same) and sends bursts of 429s, from a seed. Every invoice reaches
Fortnox exactly once, and no row needs more tries than ``AOURLY_FORTNOX_MAX_ATTEMPTS``
(the production cap, 8): none is handed to the owner.

Size: ``AOURLY_FAULTS_ITEMS`` (200) invoices.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from .async_host import invoice_ids
from .async_support import Harness, wait_for
from .fault_support import Figures, scaled

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.faults]

SEED = 1919
ERROR_RATE, APPLIED_RATE = 0.1, 0.5
BURST, BURST_EVERY = 5, 15.0  # 5 429s in a row, every 15 s (each costs the company ~5 s)
MAX_ATTEMPTS = 8  # the default of AOURLY_FORTNOX_MAX_ATTEMPTS


def test_seeded_5xx_and_429_bursts_every_invoice_synced_within_the_retry_cap(
    harness: Callable[..., Harness], sandbox: Any
) -> None:
    items = scaled("ITEMS", 200)
    h = harness(AOURLY_FORTNOX_MAX_ATTEMPTS=MAX_ATTEMPTS)
    h.connect()
    ids = invoice_ids(items, customers=max(1, items // 10))
    sandbox.admin("DELETE", "/_admin/stats")
    sandbox.faults(error_rate=ERROR_RATE, applied_rate=APPLIED_RATE, burst_429=BURST, seed=SEED)
    for n in range(4):
        h.worker(f"w{n + 1}")
    started = time.monotonic()
    h.send(*ids)

    most: dict[str, int] = {}  # the most attempts each row showed while it was retried
    states: set[str] = set()
    bursts = 1
    stop = threading.Event()

    def watch() -> None:
        nonlocal bursts
        last_burst = time.monotonic()
        while not stop.is_set():
            for key, row in h.records().items():
                most[key] = max(most.get(key, 0), row["attempts"] or 0)
                states.add(row["state"])
            if time.monotonic() - last_burst >= BURST_EVERY:
                sandbox.faults(burst_429=BURST)
                bursts += 1
                last_burst = time.monotonic()
            stop.wait(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        wait_for("every invoice synced", lambda: h.synced(ids), timeout=600, interval=0.5)
    except AssertionError:
        left = {k: (r["state"], r["attempts"], r["error_code"], r["next_attempt_at"],
                    r["lease_expires_at"]) for k, r in h.records().items()
                if r["state"] != "synced"}
        print(f"not synced: {left}; customers: {h.records(object_type='customer')}")
        raise
    finally:
        stop.set()
        watcher.join(timeout=30)
    elapsed = time.monotonic() - started
    sandbox.faults()
    stats = sandbox.stats()[f"{sandbox.client_id}/1001"]
    figures = Figures("bursts", faults=stats["5xx"] + stats["429"])
    figures.count(h.copies(), ids)
    figures.extra = {"seed": SEED, "5xx": stats["5xx"], "429": stats["429"],
                     "/3/ requests": stats["requests"],
                     "most attempts of a row": max(most.values()),
                     "cap": MAX_ATTEMPTS, "wall (s)": round(elapsed, 1)}
    figures.print()
    assert stats["5xx"] >= items // 20 and stats["429"] >= BURST  # the faults did happen
    assert (figures.duplicates, figures.lost) == (0, 0)
    assert "needs_attention" not in states
    assert max(most.values()) < MAX_ATTEMPTS
    assert {r["state"] for r in h.records().values()} == {"synced"}
    assert {r["state"] for r in h.records(object_type="customer").values()} == {"synced"}
