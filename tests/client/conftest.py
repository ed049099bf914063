"""Fixtures for the Fortnox client layer: fake endpoints, token sets, a real Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
import responses

from aourly_fortnox.fortnox.client import FortnoxClient
from aourly_fortnox.fortnox.oauth import FortnoxOAuth
from aourly_fortnox.fortnox.tokens import MemoryTokenStore, ThreadLockFactory, TokenManager
from tests.client.client_helpers import API, AUTH, SECRET, make_tokens
from tests.services import REDIS_URL


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def oauth() -> FortnoxOAuth:
    return FortnoxOAuth(AUTH, "client-id", SECRET, "https://host.test/cb",
                        "customer invoice", timeout=2.0)


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore(make_tokens())


@pytest.fixture
def manager(oauth: FortnoxOAuth, store: MemoryTokenStore) -> TokenManager:
    return TokenManager(oauth, store, ThreadLockFactory(), key="tenant-1")


@pytest.fixture
def client(manager: TokenManager) -> FortnoxClient:
    return FortnoxClient(API, manager, timeout=2.0)


@pytest.fixture(scope="session")
def redis_conn() -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(REDIS_URL)
    try:
        conn.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL} (AOURLY_TEST_REDIS_URL)")
    yield conn
    conn.close()


@pytest.fixture
def redis_prefix(redis_conn: redis.Redis) -> Iterator[str]:
    """A key prefix of our own; every key under it is deleted afterwards (never FLUSHALL)."""
    prefix = f"test:aourly_fortnox:{uuid.uuid4().hex}:"
    yield prefix
    for key in redis_conn.scan_iter(match=prefix + "*"):
        redis_conn.delete(key)


@pytest.fixture
def wait_until() -> Callable[[Callable[[], bool], float], None]:
    def wait(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.01)

    return wait
