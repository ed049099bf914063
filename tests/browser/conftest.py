"""The Playwright harness: Debian's Chromium, and the example host under a real server.

* Chromium comes from apt (``apt-get install -y chromium``), never ``playwright install``:
  ``browser_type_launch_args`` points Playwright at ``/usr/bin/chromium``.
* ``live_server``: ``create_app`` on a temp SQLite file, served by werkzeug's threaded server
  on a free port, talking to an in-process Fortnox sandbox on another free port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from jinja2 import StrictUndefined
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # pytest-playwright 0.10 defines session fixtures as instance methods, which pytest 9
    # warns about (PytestRemovedIn10Warning) when they are set up. A `filterwarnings` ini line
    # added in pytest_configure is not enough: `-W error` on the command line wins over ini
    # lines, and only item marks win over `-W`. So every browser test carries the mark.
    ignore = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(ignore)
            if not os.path.exists(CHROMIUM):
                # Never skip what the README promises: fail with what to do instead.
                raise pytest.UsageError(
                    f"{CHROMIUM} is missing: install Debian's Chromium "
                    "(apt-get install -y chromium); .ci/run does this on CI."
                )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    args = list(browser_type_launch_args.get("args", [])) + CHROMIUM_ARGS
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": args}


#: Environment variables create_app reads: the browser tests must not depend on the shell.
HOST_ENV = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "AOURLY_SANDBOX_PORT",
            "EXAMPLE_HOST_INSTANCE")


def _fortnox_config(stack: ExitStack) -> dict[str, Any]:
    """A sandbox of our own if the plugin ships one; else an address nothing answers on."""
    try:
        from aourly_fortnox.sandbox.testing import running_sandbox
    except ImportError:
        return {"AOURLY_FORTNOX_API_URL": "http://127.0.0.1:9",
                "AOURLY_FORTNOX_AUTH_URL": "http://127.0.0.1:9/oauth-v1",
                "AOURLY_FORTNOX_CLIENT_ID": "demo-client",
                "AOURLY_FORTNOX_CLIENT_SECRET": "demo-secret"}
    sandbox = stack.enter_context(running_sandbox())
    return {"AOURLY_FORTNOX_API_URL": sandbox.url,
            "AOURLY_FORTNOX_AUTH_URL": sandbox.auth_url,
            "AOURLY_FORTNOX_CLIENT_ID": sandbox.client_id,
            "AOURLY_FORTNOX_CLIENT_SECRET": sandbox.client_secret}


@contextmanager
def serve_example_host(tmp: Path) -> Iterator[str]:
    """The example host on ``tmp`` (its own database and sandbox) under a real server."""
    from example_host import create_app

    from ..example_host.conftest import close_app

    with ExitStack() as stack, pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name in HOST_ENV or name.startswith("AOURLY_FORTNOX_"):
                env.delenv(name)
        app = create_app({
            "DATABASE_URL": f"sqlite:///{tmp / 'host.db'}",
            "INSTANCE_PATH": str(tmp / "instance"),
            "SECRET_KEY": "browser-test-secret",
            "AOURLY_FORTNOX_TOKEN_KEYS": Fernet.generate_key().decode(),
            # As a deployment must: the plugin builds its OAuth callback URL from the Host
            # header only for trusted hosts (the port is chosen below, so no fixed URI).
            "TRUSTED_HOSTS": ["127.0.0.1"],
            **_fortnox_config(stack),
        })
        app.jinja_env.undefined = StrictUndefined  # a template slip fails the test, not silently
        # The demo's embedded queue: fakeredis plus a worker thread, as `make demo` runs it.
        from aourly_fortnox.worker import start_embedded_worker

        worker = start_embedded_worker(app, poll=0.2)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            worker.stop()
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
            close_app(app)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example host's base URL (``http://127.0.0.1:<port>``), served for the session.

    For tests that only read what every state shows; a test that changes the connection or
    the mapping uses ``fresh_live_server`` so no other test depends on what it left."""
    with serve_example_host(tmp_path_factory.mktemp("live")) as url:
        yield url


@pytest.fixture
def fresh_live_server(tmp_path: Path) -> Iterator[str]:
    """A host of this test's own: a new database and a new sandbox (nobody connected yet)."""
    with serve_example_host(tmp_path) as url:
        yield url


# -- The journey's host: PostgreSQL, Redis and a real `flask fortnox worker` process ----------

#: Settings of the journey's host (and its worker process), time-scaled as the engine tests
#: are (tests/engine/async_support.py): the tick and the heartbeat every second, the card
#: polling every second, and the sandbox's limit scaled up 10x with our limiter under it.
JOURNEY_SETTINGS: dict[str, Any] = {
    "AOURLY_FORTNOX_TICK_INTERVAL": 1,
    "AOURLY_FORTNOX_HEARTBEAT_INTERVAL": 1,
    "AOURLY_FORTNOX_POLL_INTERVAL": 1,
    "AOURLY_FORTNOX_RATE_LIMIT": "240/5",
    "AOURLY_FORTNOX_BACKOFF_BASE": 0.2,
    "AOURLY_FORTNOX_BACKOFF_CAP": 1.0,
}


@dataclass
class JourneyHost:
    """A live example host as it is deployed: the web app under a real server, its worker a
    process of its own (`flask --app example_host fortnox worker`), both on one PostgreSQL
    database and one Redis, talking to the sandbox over loopback."""

    url: str
    sandbox: Any  # aourly_fortnox.sandbox.testing.RunningSandbox
    database_url: str
    worker_log: Path
    engine: Any  # an SQLAlchemy engine on the host's database, to wait for the worker
    worker: subprocess.Popen[bytes] | None = None
    redis_url: str = ""
    queue: str = ""

    @contextmanager
    def worker_paused(self) -> Iterator[None]:
        """The worker busy elsewhere (stopped): jobs queued meanwhile wait, in their order.

        It is stopped between jobs (RQ says it is idle), so no work-horse is stopped holding
        rows the web app needs."""
        import time

        from redis import Redis
        from rq import Queue, Worker

        assert self.worker is not None
        redis = Redis.from_url(self.redis_url)
        try:
            deadline = time.monotonic() + 30
            while any(w.get_state() != "idle" for w in Worker.all(
                    connection=redis, queue=Queue(self.queue, connection=redis))):
                assert time.monotonic() < deadline, "the worker never went idle"
                time.sleep(0.05)
        finally:
            redis.close()
        os.killpg(self.worker.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(self.worker.pid, signal.SIGCONT)

    def worker_tail(self, lines: int = 40) -> str:
        text = self.worker_log.read_text(errors="replace") if self.worker_log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def _fresh_postgres_database() -> Iterator[str]:
    """An empty PostgreSQL database of its own (``AOURLY_TEST_POSTGRES_URL``'s server),
    dropped afterwards."""
    import uuid

    import sqlalchemy as sa

    from ..services import POSTGRES_URL

    name = f"aourly_journey_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _start_worker(config: dict[str, Any], instance: Path, log: Path) -> subprocess.Popen[bytes]:
    """The shipped worker CLI in a process (and session) of its own, configured through the
    environment as an operator would start it."""
    env = {name: value for name, value in os.environ.items()
           if name not in HOST_ENV and not name.startswith("AOURLY_FORTNOX_")}
    for name, value in config.items():
        if name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY") or name.startswith(
                "AOURLY_FORTNOX_"):
            env[name] = str(value)
    env["EXAMPLE_HOST_INSTANCE"] = str(instance)
    env["PYTHONPATH"] = str(HERE.parents[1])
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "example_host", "fortnox", "worker"],
            cwd=HERE.parents[1], env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # RQ's warm shutdown
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the worker and any work-horse it forked
            proc.wait(timeout=10)


@contextmanager
def serve_journey_host(tmp: Path) -> Iterator[JourneyHost]:
    """The example host on a fresh PostgreSQL database and the test Redis, its own sandbox,
    and one real RQ worker process: nothing of the plugin is replaced or run inline."""
    import time
    import uuid

    import sqlalchemy as sa

    from aourly_fortnox.sandbox.testing import running_sandbox
    from example_host import create_app

    from ..example_host.conftest import close_app
    from ..services import REDIS_URL

    queue = f"aourly_fortnox_journey_{uuid.uuid4().hex[:8]}"  # no other test's leftover jobs
    with ExitStack() as stack, pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name in HOST_ENV or name.startswith("AOURLY_FORTNOX_"):
                env.delenv(name)
        database_url = stack.enter_context(_fresh_postgres_database())
        sandbox = stack.enter_context(running_sandbox(rate_limit="250/5"))
        config: dict[str, Any] = {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "SECRET_KEY": "journey-secret",
            "AOURLY_FORTNOX_TOKEN_KEYS": Fernet.generate_key().decode(),
            "AOURLY_FORTNOX_API_URL": sandbox.url,
            "AOURLY_FORTNOX_AUTH_URL": sandbox.auth_url,
            "AOURLY_FORTNOX_CLIENT_ID": sandbox.client_id,
            "AOURLY_FORTNOX_CLIENT_SECRET": sandbox.client_secret,
            "AOURLY_FORTNOX_QUEUE_NAME": queue,
            "AOURLY_FORTNOX_BACKFILL_QUEUE_NAME": f"{queue}_backfill",
            **JOURNEY_SETTINGS,
        }
        app = create_app({**config, "INSTANCE_PATH": str(tmp / "instance"),
                          "TRUSTED_HOSTS": ["127.0.0.1"]})
        app.jinja_env.undefined = StrictUndefined
        stack.callback(close_app, app)
        engine = sa.create_engine(database_url)
        stack.callback(engine.dispose)
        # The Redis server is shared: the queues' registries and jobs go with the host
        # (registered before the worker's stop, so they are deleted after it has stopped).
        stack.callback(_forget_queues, REDIS_URL, (queue, f"{queue}_backfill"))
        worker = _start_worker(config, tmp / "instance", tmp / "worker.log")
        stack.callback(_stop_worker, worker)
        host = JourneyHost("", sandbox, database_url, tmp / "worker.log", engine, worker,
                           REDIS_URL, queue)
        # The worker is up once its heartbeat is written (else the card warns, rightly).
        deadline = time.monotonic() + 30
        while True:
            with engine.connect() as conn:
                beats = conn.execute(
                    sa.text("SELECT count(*) FROM fortnox_worker_heartbeat")).scalar()
            if beats:
                break
            if worker.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the Fortnox worker did not start:\n" + host.worker_tail())
            time.sleep(0.1)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="journey-server",
                                  daemon=True)
        thread.start()
        try:
            host.url = f"http://127.0.0.1:{server.server_port}"
            yield host
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)


def _forget_queues(redis_url: str, names: tuple[str, ...]) -> None:
    from redis import Redis

    from ..plugin.rq_keys import forget_queues

    redis = Redis.from_url(redis_url)
    try:
        forget_queues(redis, names)
    finally:
        redis.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Kept on the item so the journey's teardown knows whether the test failed.
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
        page = getattr(item, "funcargs", {}).get("page")
        if report.failed and page is not None:
            # What the owner saw when the assertion gave up (a card's status and counts).
            report.sections.append(("the page on failure", _page_text(page)))
    return report


def _page_text(page: Any) -> str:
    try:
        return f"{page.url}\n{page.locator('body').inner_text(timeout=5000)}"
    except Exception as exc:  # a closed or crashed page: the rest of the report still counts
        return f"(the page could not be read: {type(exc).__name__})"


_CALL_FAILED = pytest.StashKey[bool]()


def _journey_diagnosis(host: JourneyHost) -> str:
    """What the outbox, the runs and the worker were doing when a journey failed: a CI log
    then says why (a card that never counted an item, a job that never ran)."""
    import sqlalchemy as sa

    lines = []
    with host.engine.connect() as conn:
        for title, query in (
            ("connection (no tokens)", "SELECT company_id, status, expired_reason, "
             "database_number, last_sync_at FROM fortnox_connection"),
            ("sync records", "SELECT * FROM fortnox_sync_record ORDER BY id"),
            ("sync runs", "SELECT * FROM fortnox_sync_run ORDER BY id"),
            ("record summary", "SELECT * FROM fortnox_record_summary"),
        ):
            lines.append(f"-- {title}")
            try:
                lines += [str(tuple(row)) for row in conn.execute(sa.text(query))]
            except sa.exc.DBAPIError as exc:
                lines.append(f"(unreadable: {type(exc).__name__})")
                conn.rollback()
    lines += ["-- worker log", host.worker_tail(120)]
    return "\n".join(lines)


@pytest.fixture
def journey_host(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JourneyHost]:
    """A deployed-like host of this test's own (see :func:`serve_journey_host`). When the test
    fails, its teardown prints what the outbox and the worker were doing."""
    with serve_journey_host(tmp_path) as host:
        yield host
        if request.node.stash.get(_CALL_FAILED, False):
            print(_journey_diagnosis(host))
