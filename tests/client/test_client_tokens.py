"""TokenManager: one refresh under concurrency, compare-and-set, careful expiry."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

import pytest
import redis
import responses
from redis.backoff import NoBackoff
from redis.retry import Retry

from aourly_fortnox.fortnox.client import FortnoxClient
from aourly_fortnox.fortnox.errors import AuthorizationExpired, TransientError
from aourly_fortnox.fortnox.oauth import FortnoxOAuth, TokenSet
from aourly_fortnox.fortnox.tokens import (
    MemoryTokenStore,
    RedisLockFactory,
    ThreadLockFactory,
    TokenManager,
)
from tests.client.client_helpers import AUTH, make_tokens, token_body

SANDBOX_REDIRECT = "http://127.0.0.1:9/callback"
SANDBOX_SCOPES = "companyinformation customer invoice bookkeeping settings"


class FakeOAuth(FortnoxOAuth):
    """Counts refreshes; ``during`` runs inside the refresh (another worker's move)."""

    def __init__(self, delay: float = 0.05) -> None:
        super().__init__(AUTH, "id", "secret", None, "invoice")
        self.calls: list[str] = []
        self.delay = delay
        self.during: Callable[[str], object] | None = None
        self.refuse = False
        self._lock = threading.Lock()

    def refresh(self, refresh_token: str) -> TokenSet:
        with self._lock:
            self.calls.append(refresh_token)
            n = len(self.calls)
        time.sleep(self.delay)
        if self.during is not None:
            self.during(refresh_token)
        if self.refuse:
            raise AuthorizationExpired(status=400, message="Invalid refresh token")
        return make_tokens(f"access-{n}", f"refresh-{n}")


def run_threads(n: int, target: Callable[[], str]) -> list[str | BaseException]:
    results: list[str | BaseException] = [""] * n
    barrier = threading.Barrier(n)

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def test_fresh_token_needs_no_refresh_and_no_lock() -> None:
    oauth = FakeOAuth()
    manager = TokenManager(oauth, MemoryTokenStore(make_tokens("a", "r")), ThreadLockFactory())
    assert manager.access_token() == "a"
    assert oauth.calls == []


def test_sixteen_threads_one_refresh() -> None:
    oauth = FakeOAuth()
    store = MemoryTokenStore(make_tokens("stale", "r0", expires_in=30))  # inside the margin
    manager = TokenManager(oauth, store, ThreadLockFactory(), refresh_margin=120)
    results = run_threads(16, manager.access_token)
    assert results == ["access-1"] * 16
    assert oauth.calls == ["r0"] and store.replacements == 1


def test_sixteen_threads_one_refresh_over_http(mocked: responses.RequestsMock,
                                               oauth: FortnoxOAuth) -> None:
    def answer(request: object) -> tuple[int, dict[str, str], str]:
        time.sleep(0.05)
        import json

        return 200, {"Content-Type": "text/html"}, json.dumps(token_body("acc-new", "ref-new"))

    token = mocked.add_callback(responses.POST, f"{AUTH}/token", callback=answer)
    store = MemoryTokenStore(make_tokens("stale", "r0", expires_in=-5))
    # Separate managers sharing store and locks: like separate clients in one process.
    locks = ThreadLockFactory()
    managers = [TokenManager(oauth, store, locks, key="t1") for _ in range(16)]
    index = iter(range(16))
    lock = threading.Lock()

    def one() -> str:
        with lock:
            i = next(index)
        return managers[i].access_token()

    assert run_threads(16, one) == ["acc-new"] * 16
    assert token.call_count == 1


def test_force_refresh_only_if_rejected_token_still_stored() -> None:
    oauth = FakeOAuth(delay=0)
    store = MemoryTokenStore(make_tokens("a0", "r0"))
    manager = TokenManager(oauth, store, ThreadLockFactory())
    assert manager.force_refresh("some-older-token") == "a0"
    assert oauth.calls == []
    assert manager.force_refresh("a0") == "access-1"
    results = run_threads(8, lambda: manager.force_refresh("access-1"))
    assert results == ["access-2"] * 8 and oauth.calls == ["r0", "refresh-1"]


def test_refresh_now_rotates_a_fresh_token() -> None:
    oauth = FakeOAuth(delay=0)
    store = MemoryTokenStore(make_tokens("a0", "r0"))
    tokens = TokenManager(oauth, store, ThreadLockFactory()).refresh_now()
    assert tokens.refresh_token == "refresh-1" and store.load() == tokens


def test_cas_loser_uses_the_stored_token_without_a_second_refresh(
    caplog: pytest.LogCaptureFixture, wait_until: Callable[[Callable[[], bool], float], None]
) -> None:
    """The owner reconnects (a new consent's pair is stored, outside the refresh lock) while
    our refresh is in flight: we lose the compare-and-set, use the stored pair, and never send
    our spent refresh token again. The sandbox revokes a chain on any second use, so its
    record of every refresh token shows the race never reached Fortnox."""
    testing = pytest.importorskip("aourly_fortnox.sandbox.testing")
    with testing.running_sandbox() as box:
        oauth = FortnoxOAuth(box.auth_url, box.client_id, box.client_secret, SANDBOX_REDIRECT,
                             SANDBOX_SCOPES, timeout=10)
        first = oauth.exchange_code(box.grant_code(SANDBOX_REDIRECT, SANDBOX_SCOPES))
        reconnected = oauth.exchange_code(box.grant_code(SANDBOX_REDIRECT, SANDBOX_SCOPES))
        store = MemoryTokenStore(dataclasses.replace(first, expires_at=time.time() - 1))
        manager = TokenManager(oauth, store, ThreadLockFactory(), key="race")
        key = f"{box.client_id}/1001"
        token_calls = box.stats()[key]["token"]
        box.faults(latency_ms=1000)  # the refresh waits at "Fortnox" before it rotates
        got: list[str] = []
        worker = threading.Thread(target=lambda: got.append(manager.access_token()))
        worker.start()
        wait_until(lambda: box.stats()[key]["token"] == token_calls + 1, 5)  # in flight
        assert store.replace(first.refresh_token, reconnected)  # the OAuth callback's write
        worker.join(10)
        box.faults()
        assert got == [reconnected.access_token] and store.load() == reconnected
        assert "lost the compare-and-set" in caplog.text
        assert box.stats()[key]["token"] == token_calls + 1  # one refresh request, no retry
        sent = {t["refresh_token"]: t for t in box.refresh_tokens(key)}
        assert sent[first.refresh_token]["uses"] == 1
        assert all(t["uses"] <= 1 and t["state"] != "revoked" for t in sent.values())
        # The connection lives on: the stored pair works and refreshes normally.
        client = FortnoxClient(box.url, manager)
        assert client.company_information()["DatabaseNumber"] == 1001
        assert manager.refresh_now().refresh_token != reconnected.refresh_token
        assert box.refresh_tokens(key)[1]["refresh_token"] == reconnected.refresh_token
        assert box.refresh_tokens(key)[1]["uses"] == 1


def test_invalid_grant_marks_expired_when_refused_token_still_stored() -> None:
    oauth = FakeOAuth(delay=0)
    oauth.refuse = True
    store = MemoryTokenStore(make_tokens("a0", "r0", expires_in=0))
    with pytest.raises(AuthorizationExpired):
        TokenManager(oauth, store, ThreadLockFactory()).access_token()
    assert store.load() is None and store.expired


def test_invalid_grant_keeps_a_newer_stored_token() -> None:
    oauth = FakeOAuth(delay=0)
    oauth.refuse = True
    store = MemoryTokenStore(make_tokens("a0", "r0", expires_in=0))
    newer = make_tokens("reconnected-access", "reconnected-refresh")
    oauth.during = lambda old: store.replace(old, newer)
    manager = TokenManager(oauth, store, ThreadLockFactory())
    assert manager.access_token() == "reconnected-access"
    assert not store.expired and store.load() == newer


def test_memory_store_mark_expired_is_conditional() -> None:
    store = MemoryTokenStore(make_tokens("a", "r"))
    store.mark_expired("other")
    assert store.load() is not None and not store.expired
    assert not store.replace("other", make_tokens("b", "s"))
    assert store.replace("r", make_tokens("b", "s"))


def test_not_connected_is_authorization_expired() -> None:
    with pytest.raises(AuthorizationExpired):
        TokenManager(FakeOAuth(), MemoryTokenStore(), ThreadLockFactory()).access_token()


def test_lock_timeout_is_transient() -> None:
    locks = ThreadLockFactory()
    manager = TokenManager(FakeOAuth(), MemoryTokenStore(make_tokens(expires_in=0)), locks,
                           lock_timeout=0.1, key="busy")
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with locks.lock("refresh:busy"):
            held.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(5)
    try:
        with pytest.raises(TransientError):
            manager.access_token()
    finally:
        release.set()
        t.join()


@pytest.mark.redis
def test_redis_lock_one_refresh_across_managers(redis_conn: redis.Redis,
                                                redis_prefix: str) -> None:
    oauth = FakeOAuth()
    store = MemoryTokenStore(make_tokens("stale", "r0", expires_in=0))
    seen: list[bool] = []

    def during(_: str) -> None:
        seen.append(bool(redis_conn.exists(redis_prefix + "refresh:tenant-9")))

    oauth.during = during
    managers = [TokenManager(oauth, store, RedisLockFactory(redis_conn, prefix=redis_prefix),
                             key="tenant-9") for _ in range(8)]
    it = iter(managers)
    guard = threading.Lock()

    def one() -> str:
        with guard:
            manager = next(it)
        return manager.access_token()

    assert run_threads(8, one) == ["access-1"] * 8
    assert oauth.calls == ["r0"] and seen == [True]
    assert not redis_conn.exists(redis_prefix + "refresh:tenant-9")  # released


@pytest.mark.redis
def test_redis_lock_timeout_is_transient(redis_conn: redis.Redis, redis_prefix: str) -> None:
    locks = RedisLockFactory(redis_conn, prefix=redis_prefix)
    with locks.lock("x", timeout=5), pytest.raises(TransientError), locks.lock("x", timeout=0.2):
        pass


def test_redis_lock_with_redis_down_is_transient() -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2,
                       retry=Retry(NoBackoff(), 0))
    with pytest.raises(TransientError), RedisLockFactory(dead).lock("x", timeout=0.5):
        pass


def test_force_refresh_refreshes_a_newer_but_stale_token() -> None:
    # Another worker stored a pair long ago that is about to expire too: refresh it.
    oauth = FakeOAuth(delay=0)
    store = MemoryTokenStore(make_tokens("a1", "r1", expires_in=10))
    manager = TokenManager(oauth, store, ThreadLockFactory(), refresh_margin=120)
    assert manager.force_refresh("a0") == "access-1"
    assert oauth.calls == ["r1"]
