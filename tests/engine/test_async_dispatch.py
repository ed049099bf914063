"""Issue 15, dispatch: the host's commit nudges the company's push job on a real Redis queue,
one job however many rows commit at once; a Redis that is down never breaks the commit, and
the reconcile sweep syncs the row once Redis is back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry, FinishedJobRegistry

from aourly_fortnox.state import state
from aourly_fortnox.sync.dispatch import guard_key

from .async_support import Harness, PrivateRedis

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def test_rows_committed_at_once_queue_one_push_job_and_every_invoice_reaches_fortnox(
    harness: Callable[..., Harness], private_redis: PrivateRedis
) -> None:
    h = harness()
    h.connect()
    # Six host requests send an invoice each at the same moment, three of them of one new
    # customer (each request records that customer too: none may fail on it).
    ids = ["c1.1", "c1.2", "c1.3", "c2.4", "c3.5", "c4.6"]
    barrier = threading.Barrier(len(ids))
    failures: list[BaseException] = []

    def host_request(invoice_id: str) -> None:
        try:
            with h.app.app_context():
                barrier.wait(timeout=10)
                state(h.app).ext.sync_invoice("acme", invoice_id)
                state(h.app).db.session.commit()
                state(h.app).db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=host_request, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    queue = Queue(state(h.app).settings.queue_name, connection=private_redis.client)
    assert queue.count == 1  # the guard: one push job for the company
    job_id = queue.job_ids[0]
    assert private_redis.client.get(guard_key("acme")) == job_id.encode()
    assert {r["state"] for r in h.records().values()} == {"pending"}

    worker = h.worker(scheduler=False, burst=True)
    assert worker.wait(timeout=90) == 0, worker.tail()
    assert h.copies() == {i: 1 for i in ids}
    assert h.synced(ids)
    assert FinishedJobRegistry(queue=queue).get_job_ids() == [job_id]  # that job did it all
    assert FailedJobRegistry(queue=queue).count == 0
    assert private_redis.client.get(guard_key("acme")) is None  # handed back at the end


def test_redis_down_at_the_nudge_never_breaks_the_commit_and_reconcile_syncs_the_row(
    harness: Callable[..., Harness], private_redis: PrivateRedis, sandbox: Any
) -> None:
    h = harness()
    h.connect()
    private_redis.stop()
    h.send("c1.1")  # would raise if the nudge broke the host's commit
    assert h.records()["c1.1"]["state"] == "pending"  # the row is the truth; no job carries it
    assert h.records(object_type="customer")["c1"]["state"] == "pending"

    private_redis.start()  # back, empty: the nudge never reached it
    queue = Queue(state(h.app).settings.queue_name, connection=private_redis.client)
    assert queue.count == 0
    result = h.app.test_cli_runner().invoke(args=["fortnox", "reconcile"])
    assert "1 company push job(s) started for due items." in result.output, result.output
    assert queue.count == 1
    worker = h.worker(scheduler=False, burst=True)
    assert worker.wait(timeout=90) == 0, worker.tail()
    assert h.synced(["c1.1"])
    assert h.copies() == {"c1.1": 1}
