"""Issue 19, SIGKILLs: workers and work-horses killed at random points during 200 pushes
(some of them after Fortnox's 2xx and before our commit). Every invoice ends in Fortnox
exactly once, and the rows a killed job held are settled within a lease plus a tick of the
last kill.

Sizes: ``AOURLY_FAULTS_ITEMS`` (200) invoices, ``AOURLY_FAULTS_KILLS`` (20) kills.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from .async_host import invoice_ids
from .async_support import Harness, WorkerProcess, _descendants, wait_for
from .fault_support import Figures, scaled

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.faults]

SEED = 1919
LEASE, TICK = 3, 1
#: Every request waits this long at the sandbox, so a job is still busy when a kill comes;
#: a kill after the 2xx needs the POST to wait longer (the horse is stopped meanwhile).
LATENCY_MS, SLOW_POST_MS = 40, 1200


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def busy(workers: list[WorkerProcess]) -> tuple[WorkerProcess, int] | None:
    for worker in workers:
        horse = worker.horse()
        if horse is not None:
            return worker, horse
    return None


def kill_after_the_2xx(h: Harness, sandbox: Any, workers: list[WorkerProcess]) -> bool:
    """Stop a work-horse while its POST waits at Fortnox, let Fortnox create the invoice,
    then kill the horse: the 2xx is never read and nothing is committed."""
    sandbox.faults(latency_ms=SLOW_POST_MS)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = busy(workers)
            if found is None:
                time.sleep(0.05)
                continue
            _, horse = found
            before = sum(h.copies().values())
            try:
                os.killpg(horse, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            try:  # only a POST the horse already sent can add an invoice now
                wait_for("its POST handled",
                         lambda b=before: sum(h.copies().values()) > b,  # type: ignore[misc]
                         timeout=SLOW_POST_MS / 1000 + 1.0, interval=0.05)
            except AssertionError:
                os.killpg(horse, signal.SIGCONT)  # not in a POST: let it go, try again
                time.sleep(random.uniform(0.05, 0.3))
                continue
            kill_group(horse)
            return True
        return False
    finally:
        sandbox.faults(latency_ms=LATENCY_MS)


def test_workers_and_work_horses_killed_at_random_lose_nothing_and_duplicate_nothing(
    harness: Callable[..., Harness], sandbox: Any
) -> None:
    items, kills = scaled("ITEMS", 200), scaled("KILLS", 20)
    rng = random.Random(SEED)
    random.seed(SEED)
    h = harness(AOURLY_FORTNOX_LEASE_SECONDS=LEASE, AOURLY_FORTNOX_TICK_INTERVAL=TICK,
                AOURLY_FORTNOX_PUSH_BATCH=5)
    h.connect()
    ids = invoice_ids(items, customers=max(1, items // 10))
    sandbox.faults(latency_ms=LATENCY_MS)
    workers = [h.worker(f"w{n}") for n in range(1, 5)]
    started = time.monotonic()
    h.send(*ids)

    done: dict[str, int] = {"horse": 0, "worker": 0, "after_2xx": 0}
    spawned = 4
    last_kill = started
    while sum(done.values()) < kills:
        if h.synced(ids):
            break
        time.sleep(rng.uniform(0.1, 1.5))
        kind = rng.choice(["horse", "horse", "worker", "after_2xx"])
        if kind == "after_2xx":
            if kill_after_the_2xx(h, sandbox, workers):
                done[kind] += 1
                last_kill = time.monotonic()
            continue
        found = busy(workers)
        if found is None:
            continue
        worker, horse = found
        if kind == "horse":
            kill_group(horse)
        else:  # the worker and its horse die together (the machine lost the process tree)
            for pid in [worker.proc.pid, *_descendants(worker.proc.pid)]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            worker.proc.wait(timeout=10)
            workers.remove(worker)
            spawned += 1
            workers.append(h.worker(f"w{spawned}"))
        done[kind] += 1
        last_kill = time.monotonic()
    held = {i for i, r in h.records().items() if r["lease_token"] and r["state"] != "synced"}
    sandbox.faults(latency_ms=LATENCY_MS)

    # Rows the last kill left leased come back after their lease and the guard run out
    # (the guard lives a lease plus one second), then the next tick's sweep.
    if held:
        wait_for("the last killed job's rows synced", lambda: h.synced(sorted(held)),
                 timeout=60, interval=0.1)
    settled = time.monotonic() - last_kill
    wait_for("every invoice synced", lambda: h.synced(ids), timeout=300, interval=0.5)
    elapsed = time.monotonic() - started
    rows = h.records()
    figures = Figures("SIGKILLs", faults=sum(done.values()))
    figures.count(h.copies(), ids)
    figures.extra = {**{f"kills_{k}": v for k, v in done.items()},
                     "rows held by the last killed job": len(held),
                     "settled after the last kill (s)": round(settled, 1),
                     "bound (s)": LEASE + 1 + TICK + 3, "wall (s)": round(elapsed, 1)}
    figures.print()
    assert sum(done.values()) >= kills, f"only {done} kills landed"
    assert done["after_2xx"] >= 1
    assert (figures.duplicates, figures.lost) == (0, 0)
    assert {r["state"] for r in rows.values()} == {"synced"}
    customers = [c["CustomerNumber"] for c in sandbox.admin(
        "GET", "/_admin/companies/1001/customers") if c["CustomerNumber"].startswith("AOUC")]
    assert len(customers) == len(set(customers)) == max(1, items // 10)
    # A lease, the guard's extra second, one tick, and the push of a batch (3 s) at most.
    assert settled <= LEASE + 1 + TICK + 3
