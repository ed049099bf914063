"""What the asynchronous engine tests need: a private redis-server, `flask fortnox worker`
processes (RQ forks a work-horse per job), and a host whose commits nudge them.

Nothing of the plugin is replaced: the worker processes run the shipped CLI against a real
Redis, a real PostgreSQL database and the sandbox over loopback.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import redis
from flask import Flask
from sqlalchemy import select

from aourly_fortnox.migrate import upgrade_database
from aourly_fortnox.models import SyncRecord
from aourly_fortnox.state import state

from ..plugin.conftest import login
from ..plugin.flow import connect
from ..plugin.host import TOKEN_KEY
from .async_host import HOST_ENV, host_app

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

#: Settings every asynchronous test starts from (each test overrides what it needs).
BASE_CONFIG: dict[str, Any] = {
    "AOURLY_FORTNOX_QUEUE_IS_ASYNC": True,
    "AOURLY_FORTNOX_TOKEN_KEYS": TOKEN_KEY,
    # At most 48 in any second is at most 240 in any 5 s: under the sandbox's 250/5, and a
    # 429 pauses the company for one period (1 s), not 5.
    "AOURLY_FORTNOX_RATE_LIMIT": "48/1",
    "AOURLY_FORTNOX_BACKOFF_BASE": 0.2,
    "AOURLY_FORTNOX_BACKOFF_CAP": 1.0,
    # The worker's tick (the reconcile sweep) every second, unless a test turns it off.
    "AOURLY_FORTNOX_TICK_INTERVAL": 1,
    "AOURLY_FORTNOX_HEARTBEAT_INTERVAL": 1,
}


def wait_for(what: str, probe: Callable[[], T], timeout: float, interval: float = 0.1) -> T:
    """Poll ``probe`` until it returns something true; fail naming ``what`` after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test alone (no persistence), so it may be stopped or flushed."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = redis.Redis.from_url(self.url)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for("the private redis-server", self._pings, timeout=10, interval=0.02)

    def _pings(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None
        self.client.connection_pool.disconnect()


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:  # fields: state, ppid, pgrp, ...
            found.append(int(entry))
    return found


def _descendants(pid: int) -> list[int]:
    every = []
    for child in _children(pid):
        every.append(child)
        every.extend(_descendants(child))
    return every


class WorkerProcess:
    """`flask fortnox worker` in a process of its own, its output in a log file."""

    def __init__(self, spec: dict[str, Any], log: Path, scheduler: bool, burst: bool) -> None:
        self.log = log
        args = [sys.executable, "-m", "flask", "--app", "tests.engine.async_host:worker_app()",
                "fortnox", "worker"]
        if not scheduler:
            args.append("--no-scheduler")
        if burst:
            args.append("--burst")
        env = {**os.environ, HOST_ENV: json.dumps(spec), "PYTHONPATH": str(ROOT)}
        with log.open("wb") as out:
            self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def horse(self) -> int | None:
        """The work-horse running a job now: RQ forks it into a process group of its own."""
        for child in _children(self.proc.pid):
            try:
                if os.getpgid(child) == child:
                    return child
            except ProcessLookupError:
                continue
        return None

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            horses = _descendants(self.proc.pid)
            busy = self.horse()
            if busy is not None:  # a work-horse still running prints where it is
                try:
                    os.kill(busy, signal.SIGUSR1)
                    time.sleep(0.3)
                except ProcessLookupError:
                    pass
            self.proc.send_signal(signal.SIGTERM)  # RQ's warm shutdown
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                for pid in [self.proc.pid, *horses]:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.proc.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class Harness:
    """A host on PostgreSQL and a private Redis, connected to the sandbox, plus its workers."""

    def __init__(self, sandbox: Any, database_url: str, redis_server: PrivateRedis,
                 workdir: Path, backfill: dict[str, int] | None = None, customers: int = 1,
                 **config: Any) -> None:
        self.sandbox = sandbox
        self.redis = redis_server
        self.workdir = workdir
        self.spec: dict[str, Any] = {
            "database_url": database_url, "sandbox_url": sandbox.url,
            "client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
            "redis_url": redis_server.url, "config": {**BASE_CONFIG, **config},
            "backfill": backfill or {}, "customers": customers,
        }
        self.app = host_app(self.spec)
        with self.app.app_context():
            upgrade_database(self.app)
        self.apps = [self.app]
        self.workers: list[WorkerProcess] = []

    def app_with(self, **config: Any) -> Flask:
        """Another app of the same host (same database) with other settings."""
        app = host_app(self.spec_with(**config))
        self.apps.append(app)
        return app

    def spec_with(self, **config: Any) -> dict[str, Any]:
        return {**self.spec, "config": {**self.spec["config"], **config}}

    def connect(self, company: str = "acme", user: str = "owner",
                database_number: int = 1001) -> None:
        """The owner connects; the import runs inline (a host app with the queue off)."""
        inline = self.app_with(AOURLY_FORTNOX_QUEUE_IS_ASYNC=False)
        client = inline.test_client()
        login(client, user, company)
        assert connect(client, database_number=database_number).status_code == 303

    def worker(self, name: str = "w1", scheduler: bool = True, burst: bool = False,
               spec: dict[str, Any] | None = None) -> WorkerProcess:
        worker = WorkerProcess(spec or self.spec, self.workdir / f"{name}.log", scheduler, burst)
        self.workers.append(worker)
        return worker

    def send(self, *invoice_ids: str, company: str = "acme", app: Flask | None = None) -> None:
        """The host sends invoices: their outbox rows commit with its change (one commit)."""
        app = app or self.app
        with app.app_context():
            for invoice_id in invoice_ids:
                state(app).ext.sync_invoice(company, invoice_id)
            state(app).db.session.commit()

    def records(self, company: str = "acme", object_type: str = "invoice",
                ) -> dict[str, dict[str, Any]]:
        """The outbox rows of one kind, as plain values: ``{object_id: {column: value}}``."""
        with self.app.app_context():
            session = state(self.app).db.session
            rows = session.execute(
                select(SyncRecord).where(SyncRecord.company_id == company,
                                         SyncRecord.object_type == object_type)
            ).scalars().all()
            found = {row.object_id: {c.key: getattr(row, c.key)
                                     for c in SyncRecord.__table__.columns} for row in rows}
            session.remove()
            return found

    def synced(self, ids: list[str], company: str = "acme") -> bool:
        rows = self.records(company)
        return all(rows.get(i, {}).get("state") == "synced" for i in ids)

    def fortnox_invoices(self, database_number: int = 1001) -> list[dict[str, Any]]:
        return list(self.sandbox.admin("GET", f"/_admin/companies/{database_number}/invoices"))

    def copies(self, company: str = "acme", database_number: int = 1001) -> dict[str, int]:
        """How many invoices the sandbox holds per host invoice id of ``company``."""
        counts: dict[str, int] = {}
        prefix = f"{company}-"
        for found in self.fortnox_invoices(database_number):
            number = str(found.get("ExternalInvoiceReference2") or "")
            if number.startswith(prefix):
                key = number[len(prefix):]
                counts[key] = counts.get(key, 0) + 1
        return counts

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
            print(f"--- {worker.log.name} ---\n{worker.tail()}")
        for app in self.apps:
            with app.app_context():
                state(app).db.session.remove()
                state(app).db.engine.dispose()
