"""Issue 15, crashes: a work-horse killed between Fortnox's answer and our commit, a write
Fortnox applied but answered with a 5xx, and a job whose lease was taken over. Each ends
with exactly one invoice in Fortnox (post started -> search for our reference -> adopt)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest
from rq.job import Job

from .async_support import Harness, PrivateRedis, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def reconcile_until_a_job_starts(h: Harness, app: Any = None, timeout: float = 15) -> None:
    """`flask fortnox reconcile` until the row's lease and the company's guard have run out
    and the sweep hands the row to a new job."""
    runner = (app or h.app).test_cli_runner()
    wait_for(
        "the reconcile sweep to start a new push job",
        lambda: "1 company push job(s) started" in runner.invoke(
            args=["fortnox", "reconcile"]).output,
        timeout=timeout, interval=0.3,
    )


def test_a_work_horse_killed_after_the_post_and_before_the_commit_leaves_one_invoice(
    harness: Callable[..., Harness], sandbox: Any
) -> None:
    h = harness(AOURLY_FORTNOX_LEASE_SECONDS=2)
    h.connect()
    worker = h.worker(scheduler=False)  # no tick: only our reconcile below starts a job
    h.send("c1.1")  # the customer reaches Fortnox first, so the next job's first write is
    wait_for("the first invoice", lambda: h.synced(["c1.1"]), timeout=60)  # the POST

    # Each request now waits 1.5 s at the sandbox before it is handled: the work-horse is
    # stopped while its POST waits there, and killed once Fortnox has created the invoice
    # (the answer never read, nothing committed).
    sandbox.faults(latency_ms=1500)
    h.send("c1.2")
    wait_for("post started", lambda: h.records()["c1.2"]["post_started_at"], timeout=30,
             interval=0.02)
    killed = None
    deadline = time.monotonic() + 30
    while killed is None and time.monotonic() < deadline:
        time.sleep(0.2)
        horse = worker.horse()
        if horse is None:
            continue
        os.killpg(horse, signal.SIGSTOP)
        try:
            wait_for("the invoice in Fortnox", lambda: h.copies().get("c1.2"), timeout=3)
        except AssertionError:  # stopped before the POST left: let it go on, stop it again
            os.killpg(horse, signal.SIGCONT)
            continue
        os.killpg(horse, signal.SIGKILL)
        killed = horse
    assert killed is not None, "the work-horse could not be stopped during its POST"
    sandbox.faults()
    row = h.records()["c1.2"]
    assert row["post_started_at"] is not None and row["remote_id"] is None
    assert row["state"] == "pending" and row["lease_token"] is not None
    assert h.copies() == {"c1.1": 1, "c1.2": 1}
    job = wait_for("RQ to fail the killed job",
                   lambda: (j := Job.fetch(row["job_id"], connection=h.redis.client))
                   .get_status() == "failed" and j, timeout=15)
    assert "Work-horse terminated unexpectedly" in (job.latest_result().exc_string or "")

    # Another job finishes the row: it searches for our reference and adopts the invoice.
    reconcile_until_a_job_starts(h)
    wait_for("the row synced by the next job", lambda: h.synced(["c1.2"]), timeout=30)
    assert h.copies() == {"c1.1": 1, "c1.2": 1}
    document = [i["DocumentNumber"] for i in h.fortnox_invoices()
                if i["ExternalInvoiceReference2"] == "acme-c1.2"]
    assert [h.records()["c1.2"]["remote_id"]] == [str(d) for d in document]


def test_writes_fortnox_applied_but_answered_5xx_are_adopted_not_repeated(
    harness: Callable[..., Harness], sandbox: Any
) -> None:
    h = harness(AOURLY_FORTNOX_MAX_ATTEMPTS=50)
    h.connect()
    h.worker()  # with its tick: a failed row comes back after its backoff

    def failing_then_fixed(kind: str, object_id: str) -> None:
        # Every request fails with a 5xx; a write is applied first (an unknown outcome).
        sandbox.faults(error_rate=1.0, applied_rate=1.0, seed=15)
        wait_for(f"the {kind} POST answered 5xx",
                 lambda: (r := h.records(object_type=kind).get(object_id)) is not None
                 and r["attempts"] >= 1 and r["post_started_at"] is not None, timeout=30)
        sandbox.faults()

    h.send("c1.1")
    failing_then_fixed("customer", "c1")
    wait_for("the invoice synced", lambda: h.synced(["c1.1"]), timeout=60)
    ours = [c for c in sandbox.admin("GET", "/_admin/companies/1001/customers")
            if c["CustomerNumber"] == "AOUC1"]
    assert len(ours) == 1  # the customer the 5xx hid was adopted, not created again
    assert h.records(object_type="customer")["c1"]["remote_id"] == "AOUC1"

    h.send("c1.2")
    failing_then_fixed("invoice", "c1.2")
    wait_for("the second invoice synced", lambda: h.synced(["c1.2"]), timeout=60)
    assert h.copies() == {"c1.1": 1, "c1.2": 1}
    assert sandbox.stats()[f"{sandbox.client_id}/1001"]["5xx"] >= 2


def test_a_job_whose_lease_was_taken_over_writes_nothing(
    harness: Callable[..., Harness], sandbox: Any, private_redis: PrivateRedis
) -> None:
    # The first job holds rows for 1 s; the job that takes over holds them for 60 s, so the
    # first cannot claim the row back while it waits. Each runs on a worker of its own queue.
    h = harness(AOURLY_FORTNOX_LEASE_SECONDS=1)
    h.connect()
    takeover = {"AOURLY_FORTNOX_QUEUE_NAME": "takeover", "AOURLY_FORTNOX_LEASE_SECONDS": 60}
    sweeper = h.app_with(AOURLY_FORTNOX_QUEUE_NAME="takeover")
    h.worker("first", scheduler=False)
    h.worker("second", scheduler=False, spec=h.spec_with(**takeover))
    h.send("c1.1")
    wait_for("the first invoice", lambda: h.synced(["c1.1"]), timeout=60)

    # The first job's POST waits 3 s at Fortnox: its 1 s lease runs out meanwhile.
    sandbox.faults(latency_ms=3000)
    h.send("c1.2")
    first = wait_for("post started", lambda: (r := h.records()["c1.2"])["post_started_at"]
                     and r["job_id"], timeout=30, interval=0.02)
    reconcile_until_a_job_starts(h, sweeper)
    second = wait_for("the second job's claim",
                      lambda: (j := h.records()["c1.2"]["job_id"]) != first and j, timeout=15)
    wait_for("the first job to end",
             lambda: Job.fetch(first, connection=private_redis.client).get_status()
             == "finished", timeout=15, interval=0.05)
    # The first job got Fortnox's DocumentNumber, yet wrote nothing: the row is the second's.
    row = h.records()["c1.2"]
    assert h.copies() == {"c1.1": 1, "c1.2": 1}
    assert (row["remote_id"], row["state"], row["job_id"]) == (None, "pending", second)
    assert row["lease_token"] is not None
    sandbox.faults()
    # The second job searches for our reference (after the POST was handled) and adopts it.
    wait_for("the second job to settle the row", lambda: h.synced(["c1.2"]), timeout=30)
    assert h.copies() == {"c1.1": 1, "c1.2": 1}
    assert h.records()["c1.2"]["job_id"] == second
