"""The Playwright harness: Debian's Chromium, and the example host under a real server.

* Chromium comes from apt (``apt-get install -y chromium``), never ``playwright install``:
  ``browser_type_launch_args`` points Playwright at ``/usr/bin/chromium``.
* ``live_server``: ``create_app`` on a temp SQLite file, served by werkzeug's threaded server
  on a free port, talking to an in-process Fortnox sandbox on another free port.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
