"""A host written from the README alone connects, maps and syncs against the real sandbox.

The host (``app.py``, ``data.py``) has a session login, raw sqlite3 for its own data and integer
company ids; its own code imports neither Flask-Login nor Flask-SQLAlchemy. The plugin is
mounted by ``glue.py``, whose every code line is a line of a README snippet (checked below), so
a README that is not enough fails here. Production path: jobs on the real Redis, run by
``flask fortnox worker`` in a child process, the plugin's tables made by ``flask fortnox db
upgrade``.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.sandbox.testing import running_sandbox

from ..consent import _FormParser
from ..plugin.flow import consent
from ..plugin.rq_keys import forget_queues
from ..services import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.redis


# -- The host is written from the README ------------------------------------------------------
def readme_code_lines() -> set[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    return {code_of(line) for block in blocks for line in block.splitlines()} - {""}


def code_of(line: str) -> str:
    return line.split("#", 1)[0].strip()


def test_the_glue_is_made_of_readme_snippets_only() -> None:
    known = readme_code_lines()
    strangers = [
        line for line in (HERE / "glue.py").read_text().splitlines()
        if code_of(line) and "# host:" not in line and code_of(line) not in known
    ]
    assert strangers == [], "glue.py lines the README does not show"
    # The host's own hand-over lines are the README's too.
    app_lines = {code_of(line) for line in (HERE / "app.py").read_text().splitlines()}
    for line in ("fortnox.sync_invoice(company_id, invoice_id)", "db.session.commit()",
                 "app.config.update(settings_from_environ(os.environ))"):
        assert line in app_lines and line in known, line


def test_the_host_code_uses_neither_flask_login_nor_flask_sqlalchemy() -> None:
    for name in ("app.py", "data.py"):
        tree = ast.parse((HERE / name).read_text())
        imported = {
            alias.name if isinstance(node, ast.Import) else str(node.module)
            for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not {m for m in imported if m.split(".")[0] in
                    {"flask_login", "flask_sqlalchemy", "sqlalchemy"}}, name
        assert "sqlite3" in imported or name == "app.py"


# -- Connect, map, sync ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with running_sandbox(rate_limit="250/5") as sb:
        yield sb


@pytest.fixture
def host_env(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    suffix = uuid.uuid4().hex[:8]
    queues = (f"test_minimal_{suffix}", f"test_minimal_backfill_{suffix}")
    env = {
        "MINIMAL_HOST_DIR": str(tmp_path),
        "AOURLY_FORTNOX_AUTH_URL": f"{sandbox.url}/oauth-v1",
        "AOURLY_FORTNOX_API_URL": sandbox.url,
        "AOURLY_FORTNOX_CLIENT_ID": sandbox.client_id,
        "AOURLY_FORTNOX_CLIENT_SECRET": sandbox.client_secret,
        # As registered at Fortnox: outside debug and testing the plugin never builds it from
        # the request's Host header (README, settings table).
        "AOURLY_FORTNOX_REDIRECT_URI": "http://localhost/integrations/fortnox/callback",
        "AOURLY_FORTNOX_TOKEN_KEYS": Fernet.generate_key().decode(),
        "AOURLY_FORTNOX_REDIS_URL": REDIS_URL,
        "AOURLY_FORTNOX_QUEUE_NAME": queues[0],
        "AOURLY_FORTNOX_BACKFILL_QUEUE_NAME": queues[1],
        "AOURLY_FORTNOX_RATE_LIMIT": "240/5",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env
    r = redis.Redis.from_url(REDIS_URL)
    forget_queues(r, queues)
    r.close()


def run_worker(env: dict[str, str]) -> None:
    """What the README's `flask fortnox worker` does, until the queues are empty."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "tests.minimal_host.app", "fortnox", "worker",
         "--burst", "--no-scheduler"],
        cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr


def form_on(client: FlaskClient, path: str, button: str) -> dict[str, str]:
    """The fields a browser would send with the form holding ``button``."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    parser = _FormParser()
    parser.feed(page.get_data(as_text=True))
    for form in parser.forms:
        if any(button.lower() in (text or value).lower() for _, value, text in form.buttons):
            return dict(form.fields)
    raise AssertionError(f"no {button!r} button on {path}")


def log_in(client: FlaskClient, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": "secret"})
    assert response.status_code == 302


def test_a_readme_host_connects_maps_and_syncs_an_invoice(
    sandbox: Any, host_env: dict[str, str]
) -> None:
    from tests.minimal_host.app import create_app

    app: Flask = create_app()
    created = app.test_cli_runner().invoke(args=["fortnox", "db", "upgrade"])
    assert created.exit_code == 0 and "up to date" in created.output, created.output
    database_number = sandbox.admin("GET", "/_admin/companies")[0]["DatabaseNumber"]

    client = app.test_client()
    anonymous = client.get("/integrations/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    log_in(client, "olivia")
    page = client.get("/integrations/").get_data(as_text=True)
    assert "Connect Fortnox" in page

    # Not an owner of the current company: refused, by the host's own query.
    bookkeeper = app.test_client()
    log_in(bookkeeper, "bo")
    assert bookkeeper.get("/integrations/").status_code == 403

    # Connect: the plugin's form, Fortnox's consent page, the callback.
    start = client.post("/integrations/fortnox/connect",
                        data=form_on(client, "/integrations/", "Connect Fortnox"))
    assert start.status_code == 303, start.get_data(as_text=True)
    callback = client.get(consent(start.headers["Location"]))
    assert callback.status_code == 303, callback.get_data(as_text=True)
    run_worker(host_env)  # the import of years and charts
    card = client.get("/integrations/fortnox/status").get_data(as_text=True)
    assert "Connected" in card and "Syncing" not in card

    # Mapping: the page's own proposal, saved by the owner.
    fields = form_on(client, "/integrations/fortnox/mapping", "Save")
    assert fields.get("sales_25") and fields.get("receivables"), fields
    saved = client.post("/integrations/fortnox/mapping", data=fields)
    assert saved.status_code == 303, saved.get_data(as_text=True)[:2000]
    assert "Account mapping saved" in client.get(saved.headers["Location"]).get_data(
        as_text=True)

    # Sync: the host sends its invoice (sqlite3), the plugin's worker pushes it to Fortnox.
    assert client.post("/invoices/41/send").status_code == 302
    run_worker(host_env)
    invoices = sandbox.admin("GET", f"/_admin/companies/{database_number}/invoices")
    ours = [i for i in invoices if i.get("CustomerName") == "Kund Minimal AB"]
    assert len(ours) == 1, invoices
    # 3 x 850 + 25 % VAT = 3187.50, rounded to whole kronor as Fortnox does by default.
    assert Decimal(str(ours[0]["Total"])) == Decimal("3188")
    with app.app_context():
        from tests.minimal_host.glue import fortnox

        assert fortnox.sync_states(1, "invoice", [41]) == {"41": "synced"}

    # Logging out of the host logs out of the plugin's pages.
    client.post("/logout")
    assert client.get("/integrations/").status_code == 302
