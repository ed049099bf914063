"""Access tokens for one Fortnox connection: refresh under a per-tenant lock, persist by CAS.

Fortnox refresh tokens are single use and rotate on every refresh, and a token sent twice may
invalidate the whole chain, so a second use must never happen (the sandbox revokes the chain,
docs/sandbox.md). The rule: take the tenant's lock; re-read the store; refresh only if still
needed, with the refresh token just read; store the new pair with a compare-and-set on that
token *before* using it. The lock plus the re-read make a second use impossible, as long as
a refresh request ends within the lock's time to live: whoever waited on the lock finds the
new pair and sends nothing.

The compare-and-set is the backstop for writers outside the lock (a reconnect storing a new
consent's pair, a disconnect clearing it): a refresher that loses it never sends its old
refresh token again; it uses what is stored (or finds nothing and raises
:class:`AuthorizationExpired`). ``invalid_grant`` marks the connection expired only if the
stored refresh token is still the one Fortnox refused.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .errors import AuthorizationExpired, TransientError
from .oauth import FortnoxOAuth, TokenSet

log = logging.getLogger("aourly_fortnox.tokens")


class TokenStore(Protocol):
    """Where a connection's tokens live (the plugin's is database-backed)."""

    def load(self) -> TokenSet | None:
        """The stored tokens; None when not connected or expired."""
        ...

    def replace(self, old_refresh_token: str, new: TokenSet) -> bool:
        """Store ``new`` only if the stored refresh token is still ``old_refresh_token``."""
        ...

    def mark_expired(self, refused_refresh_token: str) -> None:
        """Flip to Expired only if the stored refresh token is still the refused one."""
        ...


class MemoryTokenStore:
    """A thread-safe in-memory :class:`TokenStore`, for tests and short-lived clients."""

    def __init__(self, tokens: TokenSet | None = None) -> None:
        self._tokens = tokens
        self._lock = threading.Lock()
        self.expired = False
        self.replacements = 0

    def __repr__(self) -> str:
        """Shows whether Fortnox refused the pair; TokenSet's own repr hides the tokens."""
        return f"MemoryTokenStore(tokens={self._tokens!r}, expired={self.expired})"

    def load(self) -> TokenSet | None:
        """The pair in memory; None if none was given or since Fortnox refused it."""
        with self._lock:
            return self._tokens

    def replace(self, old_refresh_token: str, new: TokenSet) -> bool:
        """The compare-and-set: a refresher that lost the race never overwrites a newer pair."""
        with self._lock:
            if self._tokens is None or self._tokens.refresh_token != old_refresh_token:
                return False
            self._tokens = new
            self.replacements += 1
            return True

    def mark_expired(self, refused_refresh_token: str) -> None:
        """Forget the pair only if it is the one Fortnox refused; a newer pair stays good."""
        with self._lock:
            if self._tokens is not None and self._tokens.refresh_token == refused_refresh_token:
                self._tokens = None
                self.expired = True


class LockFactory(Protocol):
    """Named mutual exclusion; ``lock(name)`` is a context manager.

    Not acquiring it within ``timeout`` seconds raises :class:`TransientError` (retryable).
    """

    def lock(self, name: str, timeout: float = 30.0) -> AbstractContextManager[None]:
        """Hold ``name`` exclusively, waiting at most ``timeout`` seconds (then TransientError)."""
        ...


class RedisLockFactory:
    """Locks shared by every worker process, as Redis keys ``<prefix><name>``.

    ``timeout`` is both how long to wait for the lock and its time to live, so a worker that
    dies holding it blocks the tenant for at most that long.
    """

    def __init__(self, redis: Any, prefix: str = "aourly_fortnox:lock:") -> None:
        self.redis = redis
        self.prefix = prefix

    @contextlib.contextmanager
    def lock(self, name: str, timeout: float = 30.0) -> Iterator[None]:
        """Hold ``name`` for every worker process; a Redis outage is a retryable TransientError."""
        lock = self.redis.lock(
            self.prefix + name, timeout=timeout, blocking_timeout=timeout, thread_local=False
        )
        try:
            acquired = lock.acquire()
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise TransientError(
                reason=f"The lock {name!r} is unavailable: Redis failed ({type(exc).__name__})."
            ) from None
        if not acquired:
            raise TransientError(reason=f"Timed out waiting for the lock {name!r}.")
        try:
            yield
        finally:
            try:
                lock.release()
            except (LockError, RedisConnectionError, RedisTimeoutError):
                # It expired while held; whatever we stored went through a compare-and-set.
                log.warning("lock %r expired or was lost before it was released", name)


class ThreadLockFactory:
    """In-process locks (one process, many threads): tests, and hosts without Redis."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def lock(self, name: str, timeout: float = 30.0) -> Iterator[None]:
        """Hold ``name`` within this process only: other processes do not see this lock."""
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        if not lock.acquire(timeout=timeout):
            raise TransientError(reason=f"Timed out waiting for the lock {name!r}.")
        try:
            yield
        finally:
            lock.release()


class TokenManager:
    """Hands out a valid access token for one connection, refreshing safely.

    ``key`` names the tenant (company or Fortnox DatabaseNumber); the refresh lock is
    ``refresh:<key>`` in the lock factory (``aourly_fortnox:lock:refresh:<key>`` in Redis).
    """

    def __init__(
        self,
        oauth: FortnoxOAuth,
        store: TokenStore,
        lock: LockFactory,
        *,
        refresh_margin: float = 120.0,
        lock_timeout: float = 30.0,
        key: str = "default",
    ) -> None:
        self.oauth = oauth
        self.store = store
        self.locks = lock
        self.refresh_margin = refresh_margin
        self.lock_timeout = lock_timeout
        self.key = key

    def __repr__(self) -> str:
        """Names the tenant in logs, never its store's tokens."""
        return f"TokenManager(key={self.key!r}, refresh_margin={self.refresh_margin})"

    def access_token(self) -> str:
        """A valid access token; refreshed first if it expires within the margin."""
        tokens = self._load()
        if not self._stale(tokens):
            return tokens.access_token
        with self._locked():
            tokens = self._load()  # someone may have refreshed while we waited
            if not self._stale(tokens):
                return tokens.access_token
            return self._refresh(tokens).access_token

    def force_refresh(self, rejected_access_token: str) -> str:
        """After a 401: refresh, unless another worker already stored a newer, fresh token."""
        with self._locked():
            tokens = self._load()
            if tokens.access_token != rejected_access_token and not self._stale(tokens):
                return tokens.access_token
            return self._refresh(tokens).access_token

    def refresh_now(self) -> TokenSet:
        """Rotate now even if not stale (keep-alive: each refresh restarts the 45 days)."""
        with self._locked():
            return self._refresh(self._load())

    # -- internals ---------------------------------------------------------------------------
    def _locked(self) -> AbstractContextManager[None]:
        return self.locks.lock(f"refresh:{self.key}", timeout=self.lock_timeout)

    def _stale(self, tokens: TokenSet) -> bool:
        return tokens.expires_at - time.time() <= self.refresh_margin

    def _load(self) -> TokenSet:
        tokens = self.store.load()
        if tokens is None:
            raise AuthorizationExpired(reason="Fortnox is not connected (or the connection "
                                       "expired); the owner must connect Fortnox.")
        return tokens

    def _refresh(self, tokens: TokenSet) -> TokenSet:
        """Refresh ``tokens`` (we hold the lock) and persist before anyone uses the result."""
        try:
            new = self.oauth.refresh(tokens.refresh_token)
        except AuthorizationExpired:
            self.store.mark_expired(tokens.refresh_token)
            current = self.store.load()
            if current is not None and current.refresh_token != tokens.refresh_token:
                # Someone stored a newer pair meanwhile (a reconnect): that one is good.
                return current
            raise
        if self.store.replace(tokens.refresh_token, new):
            log.info("Fortnox tokens refreshed for %s", self.key)
            return new
        # Lost the compare-and-set: someone outside the lock (a reconnect) stored other
        # tokens, or our lock ran out. The stored pair is the truth; our old refresh token is
        # spent and must never be sent again, so no second refresh request here.
        log.warning("Fortnox token refresh for %s lost the compare-and-set; using the stored "
                    "tokens", self.key)
        return self._load()
