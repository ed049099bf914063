"""Fortnox's 5xx answers, injected through the real sandbox's fault admin API, and what the
client makes of them.

Fortnox answers a 500 with ``{"ErrorInformation": {"error": 1, "message": ..., "code": ...}}``
(lower-case keys; only 404s capitalise them) and an outage in front of it with an HTML page.
The client must turn each into a retryable :class:`TransientError` that keeps Fortnox's code
and message and never a token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from aourly_fortnox.fortnox.client import FortnoxClient
from aourly_fortnox.fortnox.errors import NotFound, TransientError
from aourly_fortnox.fortnox.oauth import FortnoxOAuth, TokenSet
from aourly_fortnox.fortnox.tokens import MemoryTokenStore, ThreadLockFactory, TokenManager
from aourly_fortnox.sandbox.testing import running_sandbox

REDIRECT = "http://127.0.0.1:9/callback"
SCOPES = "companyinformation customer invoice bookkeeping settings"
SYSTEM_EXCEPTION = 1000003


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with running_sandbox(rate_limit="1000/1") as box:
        yield box


@pytest.fixture
def tokens(sandbox: Any) -> Iterator[TokenSet]:
    sandbox.admin("POST", "/_admin/faults", {})
    body = sandbox.tokens(scope=SCOPES, redirect_uri=REDIRECT)
    yield TokenSet(access_token=body["access_token"], refresh_token=body["refresh_token"],
                   expires_at=9e9, scope=body["scope"])
    sandbox.admin("POST", "/_admin/faults", {})


def client_for(sandbox: Any, tokens: TokenSet) -> FortnoxClient:
    oauth = FortnoxOAuth(sandbox.auth_url, sandbox.client_id, sandbox.client_secret, REDIRECT,
                         SCOPES, timeout=10)
    return FortnoxClient(sandbox.url, TokenManager(oauth, MemoryTokenStore(tokens),
                                                   ThreadLockFactory()), timeout=10)


def errors_by_status(sandbox: Any, tokens: TokenSet) -> dict[int, TransientError]:
    """Every request fails (a seeded draw of 500, 502, 503, 504): the client's error for
    each status."""
    sandbox.admin("POST", "/_admin/faults", {"error_rate": 1.0, "seed": 11})
    client = client_for(sandbox, tokens)
    seen: dict[int, TransientError] = {}
    for _ in range(80):
        with pytest.raises(TransientError) as info:
            client.company_information()
        assert info.value.status is not None
        seen.setdefault(info.value.status, info.value)
        if len(seen) == 4:
            break
    return seen


def raw_answers(sandbox: Any, tokens: TokenSet) -> dict[int, requests.Response]:
    """The same draws, as the bytes Fortnox (the sandbox) sends: one answer per status."""
    sandbox.admin("POST", "/_admin/faults", {"error_rate": 1.0, "seed": 11})
    seen: dict[int, requests.Response] = {}
    for _ in range(80):
        raw = sandbox.api("GET", "/3/companyinformation", tokens.access_token)
        seen.setdefault(raw.status_code, raw)
        if len(seen) == 4:
            break
    return seen


def test_a_500_keeps_fortnoxs_code_and_message(sandbox: Any, tokens: TokenSet) -> None:
    seen = errors_by_status(sandbox, tokens)
    assert 500 in seen
    error = seen[500]
    assert type(error) is TransientError
    assert error.status == 500
    assert error.code == SYSTEM_EXCEPTION
    assert error.message == "Ett systemfel har uppstått."
    assert error.reason == "Fortnox had an internal error."
    assert tokens.access_token not in str(error) and tokens.access_token not in repr(error)


def test_the_500_body_has_fortnoxs_lower_case_envelope(sandbox: Any, tokens: TokenSet) -> None:
    """What the client parsed above is what Fortnox sends for a 500 (not the 404 shape)."""
    raw = raw_answers(sandbox, tokens)[500]
    assert raw.headers["Content-Type"].startswith("application/json")
    assert raw.json() == {"ErrorInformation": {"error": 1, "message": "Ett systemfel har uppstått.",
                                               "code": SYSTEM_EXCEPTION}}


def test_an_outage_page_is_transient_without_a_code(sandbox: Any, tokens: TokenSet) -> None:
    seen = errors_by_status(sandbox, tokens)
    pages = raw_answers(sandbox, tokens)
    for status in (502, 503, 504):
        error, raw = seen[status], pages[status]
        assert "<html" in raw.text.lower()
        assert type(error) is TransientError
        assert (error.status, error.code, error.message) == (status, None, None)


def test_a_404_keeps_its_capitalised_envelope_apart(sandbox: Any, tokens: TokenSet) -> None:
    """The control: without faults a missing resource is a 404 with capitalised keys, and
    the client reads it as NotFound (not retryable) with the same code and message."""
    raw = sandbox.api("GET", "/3/vouchers/A/999999?financialyear=1", tokens.access_token)
    assert raw.status_code == 404
    info = raw.json()["ErrorInformation"]
    assert set(info) == {"Error", "Message", "Code"}
    with pytest.raises(NotFound) as error:
        client_for(sandbox, tokens).get_voucher("A", 999999, 1)
    assert error.value.status == 404
    assert (error.value.code, error.value.message) == (info["Code"], info["Message"])
