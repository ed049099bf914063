"""Fixtures for the sandbox's own tests: a fresh sandbox per test over real loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from aourly_fortnox.sandbox.testing import RunningSandbox, running_sandbox

REDIRECT = "http://127.0.0.1:5000/integrations/fortnox/callback"
ALL_SCOPES = "companyinformation customer invoice bookkeeping settings"
DB = 1001

ApiCall = Callable[..., requests.Response]


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    # A generous limit: only the rate-limit tests meet it, with their own sandbox.
    with running_sandbox(rate_limit="1000/1") as box:
        yield box


@pytest.fixture
def token(sandbox: RunningSandbox) -> str:
    access: str = sandbox.tokens(ALL_SCOPES, REDIRECT)["access_token"]
    return access


@pytest.fixture
def api(sandbox: RunningSandbox, token: str) -> ApiCall:
    """``api("GET", "customers", params=...)`` with a token holding every usual scope."""

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return sandbox.api(method, path, token, **kwargs)

    return call


def error_of(response: requests.Response) -> tuple[int, int]:
    """(status, ErrorInformation code), whatever the casing."""
    info = response.json()["ErrorInformation"]
    return response.status_code, int(info.get("code", info.get("Code")))
