"""A failed import run is retried by itself, like a pushed item: after a backoff, as a
scheduled job, until it succeeds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from aourly_fortnox import jobs
from aourly_fortnox.models import SyncRun
from aourly_fortnox.state import state

from ..plugin.conftest import login
from ..plugin.flow import REDIS_URL, connect, sandbox_host
from ..plugin.rq_keys import forget_queues

pytestmark = pytest.mark.redis


@pytest.fixture
def queue_name() -> Iterator[str]:
    name = f"test-import-retry-{uuid.uuid4().hex[:8]}"
    yield name
    conn = redis.Redis.from_url(REDIS_URL)
    forget_queues(conn, (name,))
    conn.close()


def test_a_run_failed_by_a_fortnox_outage_is_scheduled_again_and_then_finishes(
    sandbox: Any, queue_name: str
) -> None:
    app = sandbox_host(sandbox, AOURLY_FORTNOX_QUEUE_IS_ASYNC=True,
                       AOURLY_FORTNOX_QUEUE_NAME=queue_name, AOURLY_FORTNOX_BACKOFF_BASE=5.0)
    client = app.test_client()
    login(client)
    assert connect(client).status_code == 303  # the import is queued, no worker runs it
    with app.app_context():
        run = state(app).db.session.query(SyncRun).one()
        run_id, first_job = run.id, run.job_id
        sandbox.faults(error_rate=1.0, seed=3)  # Fortnox answers 5xx to everything
        try:
            jobs.run_import("acme", run_id)  # what the worker does with the queued job
        finally:
            sandbox.faults()
        session = state(app).db.session
        session.expire_all()
        run = session.get(SyncRun, run_id)
        assert run is not None
        assert (run.state, run.message, run.message_params["attempts"]) == (
            "queued", "RETRYING", 1)
        # Issue 16: the run also keeps when it failed and when it goes again (the card's
        # "Last sync failed at ...  Next try ...").
        assert run.message_params["failed_at"] < run.message_params["next_at"]
        assert run.job_id and run.job_id != first_job
        scheduled = ScheduledJobRegistry(queue=Queue(queue_name,
                                                     connection=redis.Redis.from_url(REDIS_URL)))
        assert run.job_id in scheduled.get_job_ids()  # after a backoff, not at once
        jobs.run_import("acme", run_id)  # the scheduled job, once Fortnox is back
        session.expire_all()
        assert session.get(SyncRun, run_id).state == "finished"  # type: ignore[union-attr]


def test_try_now_hands_a_run_waiting_for_its_next_try_to_a_job_that_starts_at_once(
    sandbox: Any, queue_name: str
) -> None:
    import re

    from ..plugin.test_access import csrf

    app = sandbox_host(sandbox, AOURLY_FORTNOX_QUEUE_IS_ASYNC=True,
                       AOURLY_FORTNOX_QUEUE_NAME=queue_name, AOURLY_FORTNOX_BACKOFF_BASE=5.0)
    client = app.test_client()
    login(client)
    assert connect(client).status_code == 303
    with app.app_context():
        run_id = state(app).db.session.query(SyncRun).one().id
        sandbox.faults(error_rate=1.0, seed=3)
        try:
            jobs.run_import("acme", run_id)
        finally:
            sandbox.faults()
        delayed = state(app).db.session.get(SyncRun, run_id).job_id  # type: ignore[union-attr]
    card = re.sub(r"\s+", " ", client.get("/integrations/fortnox/status").get_data(as_text=True))
    assert "Last sync failed at" in card and "Fortnox had a temporary problem." in card
    assert "Next try" in card and "Try now" in card
    assert client.post("/integrations/fortnox/sync",
                       data={"csrf_token": csrf(client)}).status_code == 303
    with app.app_context():
        session = state(app).db.session
        session.expire_all()
        run = session.get(SyncRun, run_id)
        assert run is not None and run.state == "queued" and run.job_id != delayed
        assert session.query(SyncRun).count() == 1  # the same run, not a second one
        queue = Queue(queue_name, connection=redis.Redis.from_url(REDIS_URL))
        assert run.job_id in queue.job_ids  # queued now, not after the backoff
        assert delayed in ScheduledJobRegistry(queue=queue).get_job_ids()
