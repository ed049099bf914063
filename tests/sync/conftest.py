"""A sandbox and a real client for the payload tests: bodies are POSTed as the engine will."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from aourly_fortnox.fortnox.client import FortnoxClient
from aourly_fortnox.fortnox.oauth import FortnoxOAuth
from aourly_fortnox.fortnox.tokens import MemoryTokenStore, ThreadLockFactory, TokenManager
from aourly_fortnox.sandbox.testing import RunningSandbox, running_sandbox

REDIRECT = "http://127.0.0.1:9/callback"
SCOPES = "companyinformation customer invoice bookkeeping settings"


@pytest.fixture(scope="module")
def fortnox() -> Iterator[RunningSandbox]:
    # The limit is raised: these tests measure amounts, not our rate limiter.
    with running_sandbox(rate_limit="1000/1") as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(fortnox: RunningSandbox) -> FortnoxClient:
    """The plugin's own client, with a token from the real consent flow."""
    oauth = FortnoxOAuth(fortnox.auth_url, fortnox.client_id, fortnox.client_secret, REDIRECT,
                         SCOPES, timeout=10)
    tokens = oauth.exchange_code(fortnox.grant_code(REDIRECT, SCOPES))
    manager = TokenManager(oauth, MemoryTokenStore(tokens), ThreadLockFactory(), key="payloads")
    return FortnoxClient(fortnox.url, manager, timeout=10)


@pytest.fixture(scope="module")
def this_year(client: FortnoxClient) -> date:
    """A day in the sandbox's current financial year (the accounts are active there)."""
    years = sorted(client.financial_years(), key=lambda year: str(year["FromDate"]))
    return date.fromisoformat(str(years[-1]["FromDate"]))
