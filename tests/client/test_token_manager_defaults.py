"""TokenManager as a host gets it without tuning: the default refresh margin, and the log
lines an operator reads when a refresh happens or loses the compare-and-set.

Fortnox's token endpoint is answered by ``responses`` (the HTTP boundary); the manager, the
OAuth client and the store are the shipped ones.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import responses

from aourly_fortnox.fortnox.oauth import FortnoxOAuth
from aourly_fortnox.fortnox.tokens import MemoryTokenStore, ThreadLockFactory, TokenManager
from tests.client.client_helpers import AUTH, make_tokens, token_body


def token_endpoint(mocked: responses.RequestsMock, before: Any = None) -> Any:
    calls: list[str] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        calls.append(str(request.body))
        if before is not None:
            before()
        n = len(calls)
        return 200, {"Content-Type": "application/json"}, json.dumps(
            token_body(f"access-{n}", f"refresh-{n}"))

    mocked.add_callback(responses.POST, f"{AUTH}/token", callback=answer)
    return calls


@pytest.mark.parametrize(("seconds_left", "refreshed"), [(-5, True), (60, True), (119, True),
                                                         (130, False), (3600, False)])
def test_the_default_margin_refreshes_two_minutes_ahead(
    mocked: responses.RequestsMock, oauth: FortnoxOAuth, seconds_left: float, refreshed: bool
) -> None:
    calls = token_endpoint(mocked)
    store = MemoryTokenStore(make_tokens("a0", "r0", expires_in=seconds_left))
    manager = TokenManager(oauth, store, ThreadLockFactory())  # no margin given
    assert manager.refresh_margin == 120.0
    token = manager.access_token()
    assert (token == "access-1") is refreshed
    assert len(calls) == (1 if refreshed else 0)
    assert store.replacements == (1 if refreshed else 0)


def test_every_stored_refresh_is_counted(mocked: responses.RequestsMock,
                                         oauth: FortnoxOAuth) -> None:
    token_endpoint(mocked)
    store = MemoryTokenStore(make_tokens("a0", "r0"))
    manager = TokenManager(oauth, store, ThreadLockFactory(), key="tenant-7")
    manager.refresh_now()
    manager.refresh_now()
    loaded = store.load()
    assert store.replacements == 2 and loaded is not None and loaded.refresh_token == "refresh-2"


def test_a_refresh_is_logged_with_the_tenant_and_never_the_token(
    mocked: responses.RequestsMock, oauth: FortnoxOAuth, caplog: pytest.LogCaptureFixture
) -> None:
    token_endpoint(mocked)
    manager = TokenManager(oauth, MemoryTokenStore(make_tokens("a0", "r0", expires_in=0)),
                           ThreadLockFactory(), key="company:acme")
    with caplog.at_level(logging.INFO, logger="aourly_fortnox.tokens"):
        assert manager.access_token() == "access-1"
    assert caplog.messages == ["Fortnox tokens refreshed for company:acme"]
    for secret in ("a0", "r0", "access-1", "refresh-1"):
        assert secret not in caplog.text


def test_losing_the_compare_and_set_uses_the_stored_pair_and_says_so(
    mocked: responses.RequestsMock, oauth: FortnoxOAuth, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryTokenStore(make_tokens("a0", "r0", expires_in=0))

    def another_worker_stores_first() -> None:  # e.g. our lock expired meanwhile
        assert store.replace("r0", make_tokens("a-rival", "r-rival"))

    token_endpoint(mocked, before=another_worker_stores_first)
    manager = TokenManager(oauth, store, ThreadLockFactory(), key="company:acme")
    with caplog.at_level(logging.INFO, logger="aourly_fortnox.tokens"):
        assert manager.access_token() == "a-rival"
    loaded = store.load()
    assert loaded is not None and loaded.refresh_token == "r-rival"
    assert caplog.messages == [
        "Fortnox token refresh for company:acme lost the compare-and-set; using the stored tokens"
    ]


def test_nothing_stored_means_the_owner_must_connect(oauth: FortnoxOAuth) -> None:
    from aourly_fortnox.fortnox.errors import AuthorizationExpired

    store = MemoryTokenStore()
    assert store.expired is False
    with pytest.raises(AuthorizationExpired) as info:
        TokenManager(oauth, store, ThreadLockFactory()).access_token()
    assert info.value.reason == ("Fortnox is not connected (or the connection expired); the "
                                 "owner must connect Fortnox.")


@pytest.mark.redis
def test_the_refresh_lock_is_one_redis_key_per_tenant_that_expires(
    mocked: responses.RequestsMock, oauth: FortnoxOAuth, redis_conn: Any
) -> None:
    """While a refresh runs, every process sees the tenant's lock under its documented name,
    and a worker that dies holding it blocks the tenant for 30 s at most."""
    from aourly_fortnox.fortnox.tokens import RedisLockFactory

    seen: dict[str, int] = {}
    name = "aourly_fortnox:lock:refresh:default"

    def look() -> None:
        seen["ttl_ms"] = int(redis_conn.pttl(name))

    token_endpoint(mocked, before=look)
    manager = TokenManager(oauth, MemoryTokenStore(make_tokens(expires_in=0)),
                           RedisLockFactory(redis_conn))
    assert manager.key == "default"
    assert manager.access_token() == "access-1"
    assert 29_000 < seen["ttl_ms"] <= 30_000
