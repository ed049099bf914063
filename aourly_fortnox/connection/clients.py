"""A Fortnox client for a company: its stored tokens, the shared lock and rate limiter.

The Fortnox SDK (``aourly_fortnox.fortnox``) knows no database; this module plugs the
company's encrypted token store, a per-company Redis lock and the shared limiter into it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from ..fortnox.client import FortnoxClient
from ..fortnox.oauth import FortnoxOAuth, TokenSet
from ..fortnox.ratelimit import RedisRateLimiter, parse_rate
from ..fortnox.tokens import (
    LockFactory,
    MemoryTokenStore,
    RedisLockFactory,
    ThreadLockFactory,
    TokenManager,
)
from ..queries import get_connection
from ..queue import redis_or_none
from ..state import state
from .token_store import DatabaseTokenStore


@dataclass(frozen=True)
class FortnoxCompany:
    """What ``companyinformation`` told us about the Fortnox company behind a token."""

    database_number: int
    name: str
    organisation_number: str


def oauth_client(redirect_uri: str | None = None) -> FortnoxOAuth:
    """The OAuth client for this app's Fortnox integration (settings read once per app)."""
    settings = state().settings
    return FortnoxOAuth(
        auth_url=settings.auth_url,
        client_id=settings.client_id or "",
        client_secret=settings.client_secret or "",
        redirect_uri=redirect_uri or settings.redirect_uri,
        scopes=settings.scopes,
        timeout=float(settings.http_timeout),
    )


def _lock_factory() -> LockFactory:
    # Without Redis (tests that run jobs inline) one process is all there is: a thread lock.
    redis = redis_or_none()
    return RedisLockFactory(redis) if redis is not None else _THREAD_LOCKS


def refresh_key(company_id: str) -> str:
    """The company's name in its TokenManager: its refresh lock is ``refresh:<this>``."""
    return f"company:{company_id}"


def refresh_lock(company_id: str, timeout: float = 30.0) -> AbstractContextManager[None]:
    """The lock a token refresh of the company holds (Redis, or this process's without it):
    whoever rewrites the company's tokens outside a refresh takes it too."""
    return _lock_factory().lock(f"refresh:{refresh_key(company_id)}", timeout=timeout)


def _rate_limiter(max_wait: float = 60.0) -> RedisRateLimiter | None:
    redis = redis_or_none()
    if redis is None:
        return None
    limit, period = parse_rate(state().settings.rate_limit)
    return RedisRateLimiter(redis, limit=limit, period=period, max_wait=max_wait)


_THREAD_LOCKS = ThreadLockFactory()


def limiter_key(database_number: int | None) -> str:
    """Fortnox limits per (client id, tenant); so do we."""
    return f"{state().settings.client_id}/{database_number}"


def client_for_tokens(tokens: TokenSet, database_number: int | None = None) -> FortnoxClient:
    """A client on tokens not stored yet (the callback reads companyinformation with it)."""
    settings = state().settings
    manager = TokenManager(
        oauth_client(), MemoryTokenStore(tokens), _THREAD_LOCKS,
        refresh_margin=float(settings.refresh_margin), key="unbound",
    )
    return FortnoxClient(
        settings.api_url, manager, limiter=_rate_limiter(),
        limiter_key=limiter_key(database_number), timeout=float(settings.http_timeout),
    )


def client_for(company_id: str, limiter_max_wait: float = 60.0) -> FortnoxClient:
    """A client on the company's stored connection (refreshing under the shared lock).

    ``limiter_max_wait``: how long a request may wait for the company's rate-limit window
    before it raises RateLimited (a push job waits briefly, then gives its worker back)."""
    settings = state().settings
    conn = get_connection(company_id)
    database_number = conn.database_number if conn else None
    manager = TokenManager(
        oauth_client(), DatabaseTokenStore(company_id), _lock_factory(),
        refresh_margin=float(settings.refresh_margin), key=refresh_key(company_id),
    )
    return FortnoxClient(
        settings.api_url, manager, limiter=_rate_limiter(limiter_max_wait),
        limiter_key=limiter_key(database_number), timeout=float(settings.http_timeout),
    )


def charge_request(database_number: int) -> None:
    """Count a request made before we knew its tenant (the callback's companyinformation)
    against that tenant's window, so the import right after it stays under Fortnox's limit."""
    limiter = _rate_limiter()
    if limiter is not None:
        key = limiter_key(database_number)
        limiter.finished(key, limiter.acquire(key))


def read_company(client: FortnoxClient) -> FortnoxCompany:
    """Which Fortnox company the client's token answers for (guards against a switch)."""
    info = client.company_information()
    return FortnoxCompany(
        database_number=int(info["DatabaseNumber"]),
        name=str(info.get("CompanyName") or ""),
        organisation_number=str(info.get("OrganizationNumber") or ""),
    )


