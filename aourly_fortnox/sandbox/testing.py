"""Run the sandbox inside a test: a real HTTP server on a free loopback port.

A fixture in five lines::

    import pytest
    from aourly_fortnox.sandbox.testing import running_sandbox

    @pytest.fixture
    def fortnox():
        with running_sandbox(rate_limit="100/1", access_ttl=60) as sandbox:
            yield sandbox

or ``fortnox = sandbox_fixture(rate_limit="100/1")`` in a conftest. Then::

    tokens = fortnox.tokens(scope="companyinformation customer")   # real consent flow
    fortnox.api("GET", "/3/customers", tokens["access_token"]).json()
    fortnox.admin("GET", "/companies/1001/customers")               # -> list
    fortnox.admin("POST", "/faults", {"error_rate": 0.2, "seed": 7})
    fortnox.stats()["demo-client/1001"]["429"]

Point the plugin at it with ``AOURLY_FORTNOX_AUTH_URL = fortnox.auth_url``,
``AOURLY_FORTNOX_API_URL = fortnox.url``, ``CLIENT_ID``/``CLIENT_SECRET`` from the object.
Settings are :class:`~.settings.Settings` fields: client_id, client_secret, redirect_uris,
access_ttl, refresh_ttl, code_ttl, rate_limit ("25/5" or a pair), retry_after,
refresh_reuse_revokes (default True: a reused refresh token revokes its chain),
extra_accounts, seed, db, quiet (default True here).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask

from .app import create_app
from .server import make_sandbox_server
from .settings import Settings

DEFAULT_SCOPES = "companyinformation customer invoice bookkeeping settings"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:5000/integrations/fortnox/callback"
_NONCE = re.compile(r'name="nonce" value="([^"]+)"')
_COMPANY = re.compile(r'name="database_number" value="(\d+)"')


class SandboxError(RuntimeError):
    """An admin call or a helper's OAuth step got an error answer."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass
class RunningSandbox:
    """A sandbox serving at :attr:`url`, with helpers that speak to it over real HTTP."""

    url: str
    client_id: str
    client_secret: str
    settings: Settings
    app: Flask

    @property
    def auth_url(self) -> str:
        """Base of ``/auth``, ``/token`` and ``/revoke`` (``AOURLY_FORTNOX_AUTH_URL``)."""
        return f"{self.url}/oauth-v1"

    def _default_redirect(self) -> str:
        return (
            self.settings.redirect_uris[0]
            if self.settings.redirect_uris
            else (DEFAULT_REDIRECT_URI)
        )

    # -- admin ----------------------------------------------------------------------------------

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        """Call ``/_admin/<path>`` (the prefix is optional); the decoded JSON, None if empty.
        An answer of 400 or more raises :class:`SandboxError` with ``status`` and ``body``."""
        if not path.startswith("/_admin"):
            path = "/_admin/" + path.lstrip("/")
        response = requests.request(method, self.url + path, json=json, timeout=30)
        body = response.json() if response.content else None
        if response.status_code >= 400:
            raise SandboxError(f"{method} {path}: {response.status_code} {body}",
                               response.status_code, body)  # fmt: skip
        return body

    def stats(self) -> dict[str, dict[str, int]]:
        """``GET /_admin/stats``: requests, 429s, 5xx and token calls per ``<client>/<db>``."""
        result: dict[str, dict[str, int]] = self.admin("GET", "/stats")
        return result

    def faults(self, **config: Any) -> dict[str, Any]:
        """``POST /_admin/faults``; no arguments resets every fault."""
        result: dict[str, Any] = self.admin("POST", "/faults", config)
        return result

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change run-time settings (access_ttl, refresh_ttl, code_ttl, rate_limit, retry_after,
        refresh_reuse_revokes)."""
        result: dict[str, Any] = self.admin("POST", "/settings", settings)
        return result

    def refresh_tokens(self, key: str | None = None) -> list[dict[str, Any]]:
        """``GET /_admin/refresh-tokens``, only ``key`` (``"<client>/<db>"``) if given."""
        every: list[dict[str, Any]] = self.admin("GET", "/refresh-tokens")
        return [token for token in every if key is None or token["key"] == key]

    def expire_tokens(self, refresh: bool = False) -> dict[str, int]:
        """Expire every access token (refresh tokens too if asked) now, to test the refresh path."""
        result: dict[str, int] = self.admin("POST", "/expire-tokens", {"refresh": refresh})
        return result

    # -- OAuth ----------------------------------------------------------------------------------

    def grant_code(
        self,
        redirect_uri: str,
        scope: str,
        state: str = "s",
        database_number: int | None = None,
    ) -> str:
        """Walk the consent page like a person pressing "Grant Access"; the code it returns."""
        with requests.Session() as browser:
            page = browser.get(
                f"{self.auth_url}/auth",
                params={"client_id": self.client_id, "response_type": "code", "state": state,
                        "scope": scope, "redirect_uri": redirect_uri, "access_type": "offline"},
                allow_redirects=False, timeout=30,
            )  # fmt: skip
            nonce = _NONCE.search(page.text) if page.status_code == 200 else None
            if nonce is None:
                location = page.headers.get("Location", "")
                raise SandboxError(f"no consent page: {page.status_code} {location}",
                                   page.status_code, page.text)  # fmt: skip
            if database_number is None:
                first = _COMPANY.search(page.text)
                database_number = int(first.group(1)) if first else 0
            answer = browser.post(
                f"{self.auth_url}/auth",
                data={"nonce": nonce.group(1), "action": "grant",
                      "database_number": str(database_number)},
                allow_redirects=False, timeout=30,
            )  # fmt: skip
        query = parse_qs(urlsplit(answer.headers.get("Location", "")).query)
        if "code" not in query:
            raise SandboxError(f"consent refused: {answer.status_code} {query}",
                               answer.status_code, query)  # fmt: skip
        return query["code"][0]

    def token_request(self, data: dict[str, str], **kwargs: Any) -> requests.Response:
        """POST ``/oauth-v1/token`` with this client's Basic auth (override with ``auth=``)."""
        kwargs.setdefault("auth", (self.client_id, self.client_secret))
        return requests.post(f"{self.auth_url}/token", data=data, timeout=30, **kwargs)

    def _token_json(self, response: requests.Response) -> dict[str, Any]:
        body: dict[str, Any] = response.json()  # parse whatever the Content-Type says
        if response.status_code != 200:
            raise SandboxError(f"token endpoint: {response.status_code} {body}",
                               response.status_code, body)  # fmt: skip
        return body

    def exchange_code(self, code: str, redirect_uri: str | None = None) -> dict[str, Any]:
        """The token response for an authorization code."""
        data = {"grant_type": "authorization_code", "code": code}
        data["redirect_uri"] = redirect_uri or self._default_redirect()
        return self._token_json(self.token_request(data))

    def tokens(
        self,
        scope: str = DEFAULT_SCOPES,
        redirect_uri: str | None = None,
        database_number: int | None = None,
    ) -> dict[str, Any]:
        """Consent plus code exchange: a fresh token response for one company."""
        uri = redirect_uri or self._default_redirect()
        code = self.grant_code(uri, scope, database_number=database_number)
        return self.exchange_code(code, uri)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Rotate a refresh token; raises :class:`SandboxError` on invalid_grant."""
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._token_json(self.token_request(data))

    # -- REST -----------------------------------------------------------------------------------

    def api(self, method: str, path: str, access_token: str, **kwargs: Any) -> requests.Response:
        """A ``/3/`` request with a bearer token (``path`` may omit the ``/3`` prefix)."""
        if not path.startswith("/3/"):
            path = "/3/" + path.lstrip("/")
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        headers.update(kwargs.pop("headers", {}))
        kwargs.setdefault("timeout", 30)
        return requests.request(method, self.url + path, headers=headers, **kwargs)


@contextmanager
def running_sandbox(**settings: Any) -> Iterator[RunningSandbox]:
    """Start a sandbox on a free port in a background thread; stop it cleanly on exit."""
    settings.setdefault("quiet", True)
    config = Settings.from_kwargs(**settings)
    app = create_app(config)
    store = app.extensions["fortnox_sandbox"].store
    server = make_sandbox_server(app, 0, quiet=config.quiet)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05},
        name=f"fortnox-sandbox-{server.server_port}", daemon=True,
    )  # fmt: skip
    thread.start()
    try:
        yield RunningSandbox(
            f"http://127.0.0.1:{server.server_port}", config.client_id, config.client_secret,
            config, app,
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        store.close()


def sandbox_fixture(
    scope: Literal["session", "package", "module", "class", "function"] = "function",
    **settings: Any,
) -> Callable[..., Any]:
    """A pytest fixture running a sandbox with these settings (pytest imported lazily)."""
    import pytest

    @pytest.fixture(scope=scope)
    def fixture() -> Iterator[RunningSandbox]:
        with running_sandbox(**settings) as sandbox:
            yield sandbox

    return fixture
