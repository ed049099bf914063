"""The worker side: heartbeats, one periodic tick per fleet, the RQ worker, and the demo's
embedded worker. What an operator notices: the card's "Automatic sync is not running"
warning, queued runs that finish, and periodic work that runs once, not once per worker."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis
from flask import Flask

from aourly_fortnox import worker
from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.models import SyncRun, WorkerHeartbeat
from aourly_fortnox.state import state
from aourly_fortnox.sync import runs

from ..services import REDIS_URL
from .charts import install_chart
from .host import create_host
from .rq_keys import forget_queues


def heartbeats(app: Flask) -> dict[str, Any]:
    with app.app_context():
        state(app).db.session.expire_all()
        return {b.worker_name: b.seen_at for b in state(app).db.session.query(WorkerHeartbeat)}


def run_states(app: Flask) -> list[str]:
    with app.app_context():
        state(app).db.session.expire_all()
        return [str(r.state) for r in state(app).db.session.query(SyncRun).order_by(SyncRun.id)]


def make_app(tmp_path: Path, **config: Any) -> Flask:
    app, _, _ = create_host(f"sqlite:///{tmp_path / 'worker.db'}", **config)
    with app.app_context():
        upgrade_database(app)
    return app


def test_a_heartbeat_is_one_row_per_worker_kept_fresh(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with app.app_context():
        worker.write_heartbeat("w1")
        first = heartbeats(app)["w1"]
        time.sleep(0.01)
        worker.write_heartbeat("w1")
        worker.write_heartbeat("w2")
    beats = heartbeats(app)
    assert set(beats) == {"w1", "w2"} and beats["w1"] > first


def test_worker_names_are_unique_per_process_start() -> None:
    assert worker.worker_name() != worker.worker_name()


# -- the tick, on the real Redis ---------------------------------------------------------------
@pytest.fixture
def tick_lock(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The fleet-wide tick lock under a name of this test's own (the server is shared)."""
    name = f"test:aourly_fortnox:tick:{uuid.uuid4().hex}"
    monkeypatch.setattr(worker, "TICK_LOCK", name)
    yield name
    conn = redis.Redis.from_url(REDIS_URL)
    conn.delete(name)
    conn.close()


@pytest.mark.redis
def test_the_tick_runs_once_per_interval_whatever_the_number_of_workers(
    tmp_path: Path, tick_lock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path, AOURLY_FORTNOX_REDIS_URL=REDIS_URL, AOURLY_FORTNOX_TICK_INTERVAL=60)
    ticks: list[int] = []
    monkeypatch.setattr(worker, "run_tick", lambda: ticks.append(1) or {})
    with app.app_context():
        assert worker.tick_if_due("w1") is True
        assert worker.tick_if_due("w2") is False  # another worker ran it this interval
        assert worker.tick_if_due("w1") is False
        conn = redis.Redis.from_url(REDIS_URL)
        assert conn.get(tick_lock) == b"w1"
        assert 55 <= conn.ttl(tick_lock) <= 60  # free again after one interval
        conn.delete(tick_lock)  # the interval has passed
        conn.close()
        assert worker.tick_if_due("w2") is True
    assert ticks == [1, 1]
    assert set(heartbeats(app)) == {"w1", "w2"}  # every worker is seen, ticking or not


def test_the_ticker_survives_a_failing_tick_and_stops_when_asked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 1: every tick fails after writing the heartbeat.
    app = make_app(tmp_path, AOURLY_FORTNOX_REDIS_URL="redis://127.0.0.1:1/0",
                   AOURLY_FORTNOX_HEARTBEAT_INTERVAL=1)
    stop = threading.Event()
    with caplog.at_level(logging.ERROR, logger="aourly_fortnox.worker"):
        thread = threading.Thread(target=worker._ticker, args=(app, "ticker-1", stop))
        thread.start()
        deadline = time.monotonic() + 10
        while "Periodic Fortnox tick failed" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert "Periodic Fortnox tick failed" in caplog.text
    assert set(heartbeats(app)) == {"ticker-1"}


def test_a_work_horse_is_never_forked_in_the_middle_of_a_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tick decrypts tokens and may refresh them: a work-horse forked meanwhile inherited a
    lock held by the ticker thread and hung for ever at its own first decryption (seen in
    CI). The fork waits until the tick is over."""
    guard = worker.TickForkGuard()
    monkeypatch.setattr(worker, "TICK_FORK_GUARD", guard)
    guard.install()  # a fresh guard: its hooks stay registered but hold nothing afterwards
    app = make_app(tmp_path, AOURLY_FORTNOX_HEARTBEAT_INTERVAL=1)
    in_tick, end_tick, forked = threading.Event(), threading.Event(), threading.Event()

    def slow_tick(name: str) -> bool:
        in_tick.set()
        end_tick.wait(10)
        return True

    monkeypatch.setattr(worker, "tick_if_due", slow_tick)

    def fork_a_child() -> None:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        forked.set()

    stop = threading.Event()
    ticker = threading.Thread(target=worker._ticker, args=(app, "ticker-1", stop))
    ticker.start()
    try:
        assert in_tick.wait(5)
        forker = threading.Thread(target=fork_a_child)
        forker.start()
        assert not forked.wait(0.5), "a child was forked while the tick was running"
        end_tick.set()
        assert forked.wait(10), "the fork never happened after the tick ended"
        forker.join(5)
    finally:
        end_tick.set()
        stop.set()
        ticker.join(5)


# -- the RQ worker, on the real Redis ----------------------------------------------------------
@pytest.fixture
def signal_handlers() -> Iterator[None]:
    """RQ's worker takes over SIGINT and SIGTERM for its warm shutdown and leaves them: give
    the test process its own handlers back (Ctrl-C must still stop pytest)."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_a_fork_after_the_worker_returned_needs_no_app_context(
    tmp_path: Path, signal_handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's at-fork hook lives as long as the process: a later fork (a test runner,
    a host's own subprocess) outside any app context must not raise in it."""
    hooks: list[Any] = []
    monkeypatch.setattr(worker.os, "register_at_fork",
                        lambda after_in_child, **others: hooks.append(after_in_child))
    monkeypatch.setattr(worker, "TICK_FORK_GUARD", worker.TickForkGuard())

    class NoWork:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def work(self, **kwargs: Any) -> None:
            pass

    import rq

    monkeypatch.setattr(rq, "Worker", NoWork)
    app = make_app(tmp_path, AOURLY_FORTNOX_REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        worker.run_worker(app, with_scheduler=False, burst=True)
    assert len(hooks) == 2  # the parent's connections, and the ticker's fork guard
    with app.app_context():
        engine = state(app).db.engine
        with engine.connect():
            pass
        assert engine.pool.checkedin() == 1
    hooks[0]()  # what the child runs after a fork, here without an app context
    assert engine.pool.checkedin() == 0  # the parent's pooled connection is not reused


@pytest.fixture
def queues() -> Iterator[tuple[str, str]]:
    suffix = uuid.uuid4().hex[:8]
    names = (f"test_fortnox_{suffix}", f"test_fortnox_backfill_{suffix}")
    yield names
    conn = redis.Redis.from_url(REDIS_URL)
    forget_queues(conn, names)
    conn.close()


@pytest.mark.redis
@pytest.mark.parametrize(("with_scheduler", "database"), [
    (False, "sqlite"),
    # The ticker thread and RQ's forked work-horse share the database: a horse forked while
    # the ticker held SQLite's file lock (or a lock inside OpenSSL) inherited it held. The
    # fork now waits for the tick (worker.TickForkGuard), on SQLite as on PostgreSQL.
    (True, "sqlite"),
    pytest.param(True, "postgres", marks=pytest.mark.postgres),
])
def test_the_worker_runs_queued_runs_to_their_end(
    request: pytest.FixtureRequest, tmp_path: Path, queues: tuple[str, str], tick_lock: str,
    signal_handlers: None, with_scheduler: bool, database: str,
) -> None:
    url = (f"sqlite:///{tmp_path / 'worker.db'}" if database == "sqlite"
           else str(request.getfixturevalue("postgres_url")))
    app, _, _ = create_host(url, AOURLY_FORTNOX_REDIS_URL=REDIS_URL,
                   AOURLY_FORTNOX_QUEUE_IS_ASYNC=True, AOURLY_FORTNOX_QUEUE_NAME=queues[0],
                            AOURLY_FORTNOX_BACKFILL_QUEUE_NAME=queues[1])
    with app.app_context():
        upgrade_database(app)
        install_chart()  # connected, but without tokens: the import must end as failed
        assert runs.start_run("acme", "import") is runs.StartResult.STARTED
    assert run_states(app) == ["queued"]
    with app.app_context():  # what `flask fortnox worker --burst` gives the worker
        worker.run_worker(app, with_scheduler=with_scheduler, burst=True)
    assert run_states(app) == ["failed"]  # ended, with a reason, not "Syncing" for ever
    assert len(heartbeats(app)) == 1
    with app.app_context():
        state(app).db.session.remove()
        state(app).db.engine.dispose()  # PostgreSQL: no open connection when it is dropped


# -- the demo's embedded worker ------------------------------------------------------------------
def test_the_embedded_worker_runs_jobs_and_beats_until_stopped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(tmp_path, AOURLY_FORTNOX_QUEUE_IS_ASYNC=True)
    fake = fakeredis.FakeRedis()
    state(app).redis = fake  # as init_app(..., redis=conn) does for the example host
    with app.app_context():
        install_chart()
        assert runs.start_run("acme", "import") is runs.StartResult.STARTED
    with caplog.at_level(logging.WARNING, logger="aourly_fortnox"):
        embedded = worker.start_embedded_worker(app, poll=0.05)
    try:
        deadline = time.monotonic() + 20
        while run_states(app) != ["failed"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run_states(app) == ["failed"]
        assert list(heartbeats(app)) == [embedded.worker_name]
        assert embedded.worker_name.startswith("embedded.")
        assert "embedded queue (demo only)" in caplog.text
    finally:
        embedded.stop()
        fake.close()
    assert not embedded.is_alive()
