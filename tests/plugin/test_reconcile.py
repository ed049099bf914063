"""The reconcile sweep hands a lost run to a new job of its own kind, and never restarts a run
as something it was not."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from rq import Queue

from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.models import SyncRun
from aourly_fortnox.sync.reconcile import reconcile_runs

from .charts import install_chart
from .host import create_host
from .rq_keys import forget_queues

REDIS_URL = os.environ.get("AOURLY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
pytestmark = pytest.mark.redis


@pytest.fixture
def queue_name() -> Iterator[str]:
    name = f"test-reconcile-{uuid.uuid4().hex[:8]}"
    yield name
    conn = redis.Redis.from_url(REDIS_URL)
    forget_queues(conn, (name,))
    conn.close()


def test_a_lost_run_goes_to_its_own_kind_of_job_or_fails_with_the_reason(
    queue_name: str,
) -> None:
    app, _, db = create_host(
        AOURLY_FORTNOX_QUEUE_IS_ASYNC=True, AOURLY_FORTNOX_REDIS_URL=REDIS_URL,
        AOURLY_FORTNOX_QUEUE_NAME=queue_name, AOURLY_FORTNOX_LEASE_SECONDS=0,
    )
    with app.app_context():
        upgrade_database(app)
        install_chart()
        sync = SyncRun(company_id="acme", kind="sync", state="queued", job_id="gone")
        backfill = SyncRun(company_id="acme", kind="backfill", state="running", job_id="gone")
        db.session.add_all([sync, backfill])
        db.session.commit()
        assert reconcile_runs() == 1
        db.session.expire_all()
        sync, backfill = db.session.get(SyncRun, sync.id), db.session.get(SyncRun, backfill.id)
        assert sync is not None and backfill is not None
        assert sync.state == "queued" and sync.job_id not in (None, "gone")
        assert (backfill.state, backfill.message) == ("failed", "JOB_LOST")
        queue = Queue(queue_name, connection=redis.Redis.from_url(REDIS_URL))
        jobs = queue.get_jobs()
        assert [(job.id, job.func_name, job.args) for job in jobs] == [
            (sync.job_id, "aourly_fortnox.jobs.run_import", ("acme", sync.id))
        ]
        assert reconcile_runs() == 0  # its job is alive now: no flood
