"""The RQ worker for the plugin's queues, its periodic tick, and the demo's embedded worker.

Periodic work (keep-alive refresh, expiry check, heartbeat) comes from one tick guarded by a
Redis lock, so N workers do not multiply it. Workers write a heartbeat; the card warns when
none was seen for ``AOURLY_FORTNOX_HEARTBEAT_STALE_AFTER`` seconds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from flask import Flask
from sqlalchemy import select

from .models import WorkerHeartbeat, utcnow
from .queries import session
from .queue import queue, require_redis
from .state import state
from .sync.schedule import run_tick

log = logging.getLogger("aourly_fortnox.worker")

TICK_LOCK = "aourly_fortnox:tick"

# How long a fork waits for a running tick before it goes ahead anyway (and logs it).
FORK_WAIT_SECONDS = 60


class TickForkGuard:
    """Forks wait until the ticker thread is between ticks.

    RQ forks a work-horse per job while our ticker thread may be inside OpenSSL or libpq
    (a tick decrypts every connected company's tokens and may refresh them). A lock held by
    another thread at fork stays held for ever in the child: CI saw a work-horse hang at its
    first token decryption. POSIX's advice is a fork handler; ``os.register_at_fork`` is it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held_for_fork = False
        self._installed = False

    def __enter__(self) -> TickForkGuard:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def install(self) -> None:
        """Register the fork handlers once per process (they cannot be unregistered)."""
        if self._installed:
            return
        self._installed = True
        os.register_at_fork(
            before=self._before_fork,
            after_in_parent=self._after_fork,
            after_in_child=self._after_fork,
        )

    def _before_fork(self) -> None:
        self._held_for_fork = self._lock.acquire(timeout=FORK_WAIT_SECONDS)
        if not self._held_for_fork:
            log.warning("A tick ran for over %s s; forking a work-horse anyway", FORK_WAIT_SECONDS)

    def _after_fork(self) -> None:
        if self._held_for_fork:
            self._held_for_fork = False
            self._lock.release()


TICK_FORK_GUARD = TickForkGuard()


def write_heartbeat(name: str) -> None:
    """Record that this worker is alive (the card warns when none was seen for a while)."""
    db_session = session()
    beat = db_session.execute(
        select(WorkerHeartbeat).where(WorkerHeartbeat.worker_name == name)
    ).scalar_one_or_none()
    if beat is None:
        beat = WorkerHeartbeat(worker_name=name)
        db_session.add(beat)
    beat.seen_at = utcnow()
    db_session.commit()


def tick_if_due(worker_name: str) -> bool:
    """Write this worker's heartbeat; run the tick if no other worker ran it this interval."""
    write_heartbeat(worker_name)
    interval = int(state().settings.tick_interval)
    redis = require_redis()
    if not redis.set(TICK_LOCK, worker_name, nx=True, ex=max(1, interval)):
        return False
    run_tick()
    return True


def _ticker(app: Flask, name: str, stop: threading.Event) -> None:
    interval = max(1, int(app.extensions["aourly_fortnox"].settings.heartbeat_interval))
    while not stop.is_set():
        with TICK_FORK_GUARD, app.app_context():
            try:
                tick_if_due(name)
            except Exception:  # the ticker must survive a database or Redis hiccup
                log.exception("Periodic Fortnox tick failed; trying again next interval")
            finally:
                state(app).db.session.remove()
        stop.wait(interval)


def worker_name() -> str:
    """A name unique per worker process, so RQ and the heartbeat rows tell workers apart."""
    return f"{socket.gethostname()}.{uuid.uuid4().hex[:8]}"


def run_worker(app: Flask, with_scheduler: bool = True, burst: bool = False) -> None:
    """``flask fortnox worker``: live queue first, backfill queue round-robin with it."""
    from rq import Worker
    from rq.worker import DequeueStrategy

    name = worker_name()
    db = state(app).db
    # RQ forks a work-horse per job: pooled database connections must not cross the fork
    # (SQLAlchemy's advice: dispose in the child without closing the parent's sockets).
    # The engines are looked up now: the hook stays registered for the life of the process
    # and runs at every later fork, inside an app context or not.
    with app.app_context():
        engines = list(db.engines.values())

    def forget_parent_connections() -> None:
        for engine in engines:
            engine.dispose(close=False)

    os.register_at_fork(after_in_child=forget_parent_connections)
    TICK_FORK_GUARD.install()
    stop = threading.Event()
    ticker = None
    if with_scheduler:
        ticker = threading.Thread(target=_ticker, args=(app, name, stop), daemon=True)
        ticker.start()
    else:
        with app.app_context():
            write_heartbeat(name)
    try:
        worker = Worker(
            [queue(backfill=False), queue(backfill=True)],
            connection=require_redis(),
            name=name,
        )
        worker.work(
            burst=burst,
            with_scheduler=with_scheduler,
            dequeue_strategy=DequeueStrategy.ROUND_ROBIN,
        )
    finally:
        stop.set()
        if ticker is not None:
            ticker.join(timeout=5)


class EmbeddedWorker(threading.Thread):
    """Demo only: runs the plugin's jobs in a thread of the web process (no Redis server).

    Measured with RQ 3: a ``SimpleWorker`` in a thread needs a timer death penalty and no
    signal handlers; it loops in burst mode because RQ's non-burst scheduler forks a process
    that would see a copy of the in-memory Redis and never run delayed jobs.
    """

    def __init__(self, app: Flask, poll: float = 0.5) -> None:
        super().__init__(name="aourly-fortnox-embedded-worker", daemon=True)
        self.app = app
        self.poll = poll
        self.worker_name = f"embedded.{worker_name()}"
        self._stop_event = threading.Event()

    def stop(self, timeout: float = 10.0) -> None:
        """End the demo worker at shutdown or after a test, waiting at most ``timeout``."""
        self._stop_event.set()
        self.join(timeout)

    def run(self) -> None:
        """The thread's loop: a burst round of jobs every poll, the tick as often as a worker's."""
        from rq import SimpleWorker
        from rq.timeouts import TimerDeathPenalty
        from rq.worker import DequeueStrategy

        class ThreadWorker(SimpleWorker):
            death_penalty_class = TimerDeathPenalty

            def _install_signal_handlers(self) -> None:  # only the main thread may
                pass

        app = self.app
        last_tick = 0.0
        interval = max(1, int(state(app).settings.heartbeat_interval))
        while not self._stop_event.is_set():
            with app.app_context():
                try:
                    if time.monotonic() - last_tick >= interval:
                        tick_if_due(self.worker_name)
                        last_tick = time.monotonic()
                    worker: Any = ThreadWorker(
                        [queue(backfill=False), queue(backfill=True)],
                        connection=require_redis(),
                    )
                    worker.work(
                        burst=True,
                        with_scheduler=True,
                        dequeue_strategy=DequeueStrategy.ROUND_ROBIN,
                        logging_level="WARNING",  # a round every poll: INFO would flood
                    )
                except Exception:
                    log.exception("Embedded Fortnox worker: a round failed; continuing")
                finally:
                    state(app).db.session.remove()
            self._stop_event.wait(self.poll)


def start_embedded_worker(app: Flask, poll: float = 0.5) -> EmbeddedWorker:
    """Start an :class:`EmbeddedWorker` (call ``.stop()`` to end it)."""
    thread = EmbeddedWorker(app, poll)
    thread.start()
    log.warning("aourly_fortnox: embedded queue (demo only): jobs run in a thread of this process")
    return thread
