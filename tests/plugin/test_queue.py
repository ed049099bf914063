"""The production path: jobs on a real Redis queue, run by `flask fortnox worker` (RQ forks a
work-horse per job), while the card polls and then stops polling."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis

from aourly_fortnox.models import Account, WorkerHeartbeat
from aourly_fortnox.queries import get_connection
from aourly_fortnox.state import state

from .conftest import login
from .flow import REDIS_URL, connect, sandbox_host
from .host import TOKEN_KEY
from .rq_keys import forget_queues

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.redis


@pytest.fixture
def queue_names() -> Any:
    suffix = uuid.uuid4().hex[:8]
    names = (f"test_fortnox_{suffix}", f"test_fortnox_backfill_{suffix}")
    yield names
    r = redis.Redis.from_url(REDIS_URL)
    forget_queues(r, names)
    leftovers = [key for name in names for key in r.scan_iter(match=f"rq:*:{name}")]
    r.close()
    assert leftovers == [], leftovers


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_import_runs_on_the_worker_and_the_card_polls_until_done(
    sandbox: Any, tmp_path: Path, queue_names: tuple[str, str], database_url: str
) -> None:
    db_url = database_url
    config = {
        "AOURLY_FORTNOX_QUEUE_IS_ASYNC": True,
        "AOURLY_FORTNOX_QUEUE_NAME": queue_names[0],
        "AOURLY_FORTNOX_BACKFILL_QUEUE_NAME": queue_names[1],
        "AOURLY_FORTNOX_TOKEN_KEYS": TOKEN_KEY,
    }
    app = sandbox_host(sandbox, SQLALCHEMY_DATABASE_URI=db_url, **config)
    client = app.test_client()
    login(client)
    assert connect(client).status_code == 303

    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "Syncing" in card and 'hx-trigger="every' in card  # queued: the card polls
    assert "Automatic sync is not running" in card  # no worker has been seen yet
    with app.app_context():
        assert state(app).db.session.query(Account).count() == 0

    (tmp_path / "queue_host.py").write_text(
        "from tests.plugin.host import create_host\n"
        f"app, fortnox, db = create_host({db_url!r},\n"
        f"    AOURLY_FORTNOX_AUTH_URL={sandbox.url + '/oauth-v1'!r},\n"
        f"    AOURLY_FORTNOX_API_URL={sandbox.url!r},\n"
        f"    AOURLY_FORTNOX_CLIENT_ID={sandbox.client_id!r},\n"
        f"    AOURLY_FORTNOX_CLIENT_SECRET={sandbox.client_secret!r},\n"
        f"    AOURLY_FORTNOX_REDIS_URL={REDIS_URL!r},\n"
        "    AOURLY_FORTNOX_RATE_LIMIT='240/5',\n"
        f"    **{config!r})\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "queue_host", "fortnox", "worker", "--burst",
         "--no-scheduler"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr

    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "Syncing" not in card and 'hx-trigger="every' not in card  # polling stops itself
    assert "Automatic sync is not running" not in card
    with app.app_context():
        db = state(app).db
        assert db.session.query(Account).count() >= 300
        assert db.session.query(WorkerHeartbeat).count() == 1
        conn = get_connection("acme")
        assert conn is not None and conn.last_sync_at is not None
        db.session.remove()
        db.engine.dispose()  # PostgreSQL: close our connections before the database is dropped


def test_reconcile_hands_a_run_whose_job_was_lost_to_a_new_job(
    sandbox: Any, tmp_path: Path, queue_names: tuple[str, str]
) -> None:
    from aourly_fortnox.models import SyncRun

    config = {
        "AOURLY_FORTNOX_QUEUE_IS_ASYNC": True,
        "AOURLY_FORTNOX_QUEUE_NAME": queue_names[0],
        "AOURLY_FORTNOX_BACKFILL_QUEUE_NAME": queue_names[1],
        "AOURLY_FORTNOX_LEASE_SECONDS": 0,
    }
    app = sandbox_host(sandbox, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'r.db'}",
                       **config)
    client = app.test_client()
    login(client)
    assert connect(client).status_code == 303
    r = redis.Redis.from_url(REDIS_URL)
    with app.app_context():
        run = state(app).db.session.query(SyncRun).one()
        lost_job = run.job_id
    # Redis lost the job (restart without persistence): the run would say "Syncing" for ever.
    r.delete(f"rq:job:{lost_job}")
    r.delete(f"rq:queue:{queue_names[0]}")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["fortnox", "reconcile"])
    assert "1 run(s) handed to a new job" in result.output
    assert "0 run(s)" in runner.invoke(args=["fortnox", "reconcile"]).output  # no flood
    with app.app_context():
        run = state(app).db.session.query(SyncRun).one()
        assert run.job_id != lost_job and run.state == "queued"
    from rq import Queue, SimpleWorker

    with app.app_context():  # what `flask fortnox worker` gives its jobs
        SimpleWorker([Queue(queue_names[0], connection=r)], connection=r).work(burst=True)
    r.close()
    with app.app_context():
        state(app).db.session.expire_all()
        assert state(app).db.session.query(SyncRun).one().state == "finished"
