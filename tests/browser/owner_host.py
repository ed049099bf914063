"""A live example host (``conftest.serve_example_host``) whose Flask app and Fortnox sandbox
the test can also reach: to withdraw consent at Fortnox (the sandbox's admin API) and run the
worker's tick, as an hour passing would.

Built only from additions: ``serve_example_host`` imports ``create_app`` and
``running_sandbox`` when it runs, so wrapping both module attributes hands us the objects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from .conftest import serve_example_host
from .test_tenant_menu import log_in


@dataclass
class OwnerHost:
    url: str
    app: Flask
    sandbox: Any

    def expire(self) -> None:
        """The owner withdraws consent in Fortnox; an hour later the access token has ended
        and the worker's tick finds out (aourly_fortnox/sync/schedule.py)."""
        from aourly_fortnox.models import utcnow
        from aourly_fortnox.queries import get_connection
        from aourly_fortnox.state import state
        from aourly_fortnox.sync.schedule import run_tick

        database = self.sandbox.admin("GET", "/_admin/companies")[0]["DatabaseNumber"]
        self.sandbox.admin("POST", f"/_admin/companies/{database}/revoke")
        with self.app.app_context():
            conn = get_connection("acme")
            assert conn is not None
            conn.access_expires_at = utcnow() - timedelta(seconds=1)
            state(self.app).db.session.commit()
            run_tick()


@pytest.fixture
def owner_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OwnerHost]:
    import example_host
    from aourly_fortnox.sandbox import testing

    made: dict[str, Any] = {}
    create_app, running_sandbox = example_host.create_app, testing.running_sandbox

    def keep_app(*args: Any, **kwargs: Any) -> Flask:
        made["app"] = create_app(*args, **kwargs)
        return made["app"]

    @contextmanager
    def keep_sandbox(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with running_sandbox(*args, **kwargs) as sandbox:
            made["sandbox"] = sandbox
            yield sandbox

    monkeypatch.setattr(example_host, "create_app", keep_app)
    monkeypatch.setattr(testing, "running_sandbox", keep_sandbox)
    with serve_example_host(tmp_path) as url:
        yield OwnerHost(url, made["app"], made["sandbox"])


def connect(page: Page, url: str, wait: bool = True) -> None:
    """Log in as the owner, connect Fortnox on the sandbox's consent page, and (``wait``)
    let the first import finish."""
    log_in(page, url, "owner@acme.test")
    page.goto(f"{url}/integrations/")
    page.locator("#fortnox-card").get_by_role("button", name="Connect Fortnox").click()
    page.get_by_role("button", name="Grant Access").click()
    expect(page).to_have_url(re.compile(r"/integrations/$"))
    if wait:
        expect(page.get_by_test_id("fortnox-last-sync")).not_to_have_text("Not yet",
                                                                          timeout=30_000)
