"""A company's Fortnox connection: its states, its tokens (encrypted), and a client for it.

Knows the database and the token cipher; knows nothing about HTTP requests to the plugin.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from . import signals
from .client import FortnoxClient
from .errors import FortnoxError
from .extension import state
from .i18n import N_
from .models import Connection, ConnectionStatus, utcnow
from .oauth import FortnoxOAuth, TokenSet
from .queries import get_connection, session
from .ratelimit import RedisRateLimiter, parse_rate
from .tokens import (
    MemoryTokenStore,
    RedisLockFactory,
    ThreadLockFactory,
    TokenManager,
)

log = logging.getLogger("aourly_fortnox.connection")


@dataclass(frozen=True)
class FortnoxCompany:
    """What ``companyinformation`` told us about the Fortnox company behind a token."""

    database_number: int
    name: str
    organisation_number: str


@dataclass(frozen=True)
class PendingSwitch:
    old_name: str
    old_database_number: int | None
    new_name: str
    new_database_number: int
    new_organisation_number: str


# -- building blocks ----------------------------------------------------------------------
def oauth_client(redirect_uri: str | None = None) -> FortnoxOAuth:
    settings = state().settings
    return FortnoxOAuth(
        auth_url=settings.auth_url,
        client_id=settings.client_id or "",
        client_secret=settings.client_secret or "",
        redirect_uri=redirect_uri or settings.redirect_uri,
        scopes=settings.scopes,
        timeout=float(settings.http_timeout),
    )


def _lock_factory():  # type: ignore[no-untyped-def]
    from .queue import redis_or_none

    redis = redis_or_none()
    return RedisLockFactory(redis) if redis is not None else _THREAD_LOCKS


def _rate_limiter() -> RedisRateLimiter | None:
    from .queue import redis_or_none

    redis = redis_or_none()
    if redis is None:
        return None
    limit, period = parse_rate(state().settings.rate_limit)
    return RedisRateLimiter(redis, limit=limit, period=period)


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


def client_for(company_id: str) -> FortnoxClient:
    """A client on the company's stored connection (refreshing under the shared lock)."""
    settings = state().settings
    conn = get_connection(company_id)
    database_number = conn.database_number if conn else None
    manager = TokenManager(
        oauth_client(), DatabaseTokenStore(company_id), _lock_factory(),
        refresh_margin=float(settings.refresh_margin), key=f"company:{company_id}",
    )
    return FortnoxClient(
        settings.api_url, manager, limiter=_rate_limiter(),
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
    info = client.company_information()
    return FortnoxCompany(
        database_number=int(info["DatabaseNumber"]),
        name=str(info.get("CompanyName") or ""),
        organisation_number=str(info.get("OrganizationNumber") or ""),
    )


# -- the token store --------------------------------------------------------------------
class DatabaseTokenStore:
    """:class:`aourly_fortnox.tokens.TokenStore` on the connection row.

    Works on its own short transactions (``engine.begin()``), so a refreshed pair is committed
    before it is used, whatever the caller's session is doing. Compare-and-set compares the
    stored ciphertext we read, since Fernet ciphertexts of one token differ each time.
    """

    def __init__(self, company_id: str) -> None:
        self.company_id = company_id
        self._state = state()

    def _row(self):  # type: ignore[no-untyped-def]
        with self._state.db.engine.connect() as conn:
            return conn.execute(
                select(
                    Connection.status,
                    Connection.access_token_enc,
                    Connection.refresh_token_enc,
                    Connection.access_expires_at,
                    Connection.refresh_expires_at,
                    Connection.scope,
                ).where(Connection.company_id == self.company_id)
            ).one_or_none()

    def load(self) -> TokenSet | None:
        row = self._row()
        if row is None or row.status != ConnectionStatus.CONNECTED or not row.refresh_token_enc:
            return None
        cipher = self._state.cipher
        refresh_expires = _aware(row.refresh_expires_at)
        if refresh_expires is not None and refresh_expires <= utcnow():
            # Past Fortnox's 45 days: only the owner's consent renews it.
            refresh = cipher.decrypt(row.refresh_token_enc)
            self.mark_expired(refresh, N_("The Fortnox authorization ran out after 45 days."))
            return None
        access_expires = _aware(row.access_expires_at)
        return TokenSet(
            access_token=cipher.decrypt(row.access_token_enc or ""),
            refresh_token=cipher.decrypt(row.refresh_token_enc),
            expires_at=access_expires.timestamp() if access_expires else 0.0,
            scope=row.scope or "",
        )

    def _compare_and_set(self, expected_refresh: str, values: dict[str, object]) -> bool:
        """Write ``values`` only if the stored refresh token is still ``expected_refresh``."""
        row = self._row()
        if row is None or not row.refresh_token_enc:
            return False
        if self._state.cipher.decrypt(row.refresh_token_enc) != expected_refresh:
            return False  # someone stored a newer pair meanwhile
        with self._state.db.engine.begin() as conn:
            result = conn.execute(
                update(Connection)
                .where(
                    Connection.company_id == self.company_id,
                    Connection.refresh_token_enc == row.refresh_token_enc,
                )
                .values(**values, updated_at=utcnow())
            )
        return result.rowcount == 1

    def replace(self, old_refresh_token: str, new: TokenSet) -> bool:
        values = _token_columns(new, utcnow(), self._state.settings.refresh_token_lifetime)
        return self._compare_and_set(old_refresh_token, values)

    def mark_expired(self, refused_refresh_token: str, reason: str | None = None) -> None:
        reason = reason or N_(
            "Fortnox no longer accepts Aourly's authorization (it was revoked, used elsewhere "
            "or ran out)."
        )
        expired = self._compare_and_set(
            refused_refresh_token,
            {
                "status": ConnectionStatus.EXPIRED,
                "expired_at": utcnow(),
                "expired_reason": reason,
                "access_token_enc": None,
                "refresh_token_enc": None,
            },
        )
        if expired:
            log.warning("Fortnox connection of company %s expired", self.company_id)
            signals.connection_expired.send(_app(), company_id=self.company_id, reason=reason)


def _app():  # type: ignore[no-untyped-def]
    from flask import current_app

    return current_app._get_current_object()  # type: ignore[attr-defined]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _token_columns(tokens: TokenSet, now: datetime, refresh_lifetime: int) -> dict[str, object]:
    cipher = state().cipher
    return {
        "access_token_enc": cipher.encrypt(tokens.access_token),
        "refresh_token_enc": cipher.encrypt(tokens.refresh_token),
        "access_expires_at": datetime.fromtimestamp(tokens.expires_at, UTC),
        # Fortnox's refresh token lifetime restarts with each new one (FORTNOX_API.md 2.4).
        "refresh_expires_at": now + timedelta(seconds=int(refresh_lifetime)),
        "token_refreshed_at": now,
        "scope": tokens.scope,
    }


# -- state changes ------------------------------------------------------------------------
def connected_elsewhere(company_id: str, database_number: int) -> str | None:
    """Another Aourly company already connected to this Fortnox company (its id), if any."""
    other = session().execute(
        select(Connection.company_id).where(
            Connection.database_number == database_number,
            Connection.company_id != company_id,
            Connection.status.in_((ConnectionStatus.CONNECTED, ConnectionStatus.EXPIRED)),
        )
    ).scalar_one_or_none()
    return other


def store_connection(
    company_id: str, user_id: str, tokens: TokenSet, company: FortnoxCompany
) -> Connection:
    """Become Connected to ``company`` with ``tokens`` (commits)."""
    db_session = session()
    conn = get_connection(company_id)
    now = utcnow()
    if conn is None:
        conn = Connection(company_id=company_id)
        db_session.add(conn)
    first_time_here = conn.database_number != company.database_number
    for column, value in _token_columns(
        tokens, now, state().settings.refresh_token_lifetime
    ).items():
        setattr(conn, column, value)
    conn.status = ConnectionStatus.CONNECTED
    conn.database_number = company.database_number
    conn.fortnox_company_name = company.name
    conn.organisation_number = company.organisation_number
    conn.connected_by = user_id
    if first_time_here or conn.connected_at is None:
        conn.connected_at = now
    conn.disconnected_at = None
    conn.expired_at = None
    conn.expired_reason = None
    _clear_pending(conn)
    db_session.commit()
    signals.connected.send(
        _app(),
        company_id=company_id,
        database_number=company.database_number,
        fortnox_company_name=company.name,
    )
    return conn


def hold_for_switch(company_id: str, tokens: TokenSet, company: FortnoxCompany) -> None:
    """Keep a different Fortnox company's tokens (encrypted) until the owner confirms."""
    conn = get_connection(company_id)
    assert conn is not None
    cipher = state().cipher
    conn.pending_database_number = company.database_number
    conn.pending_company_name = company.name
    conn.pending_organisation_number = company.organisation_number
    conn.pending_tokens_enc = cipher.encrypt(
        json.dumps(
            {
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token,
                "expires_at": tokens.expires_at,
                "scope": tokens.scope,
            }
        )
    )
    conn.pending_since = utcnow()
    session().commit()


def pending_switch(company_id: str) -> PendingSwitch | None:
    conn = get_connection(company_id)
    if conn is None or conn.pending_database_number is None or not conn.pending_tokens_enc:
        return None
    return PendingSwitch(
        old_name=conn.fortnox_company_name or "the previous Fortnox company",
        old_database_number=conn.database_number,
        new_name=conn.pending_company_name or "",
        new_database_number=conn.pending_database_number,
        new_organisation_number=conn.pending_organisation_number or "",
    )


def confirm_switch(company_id: str) -> None:
    conn = get_connection(company_id)
    pending = pending_switch(company_id)
    if conn is None or pending is None:
        return
    raw = json.loads(state().cipher.decrypt(conn.pending_tokens_enc or ""))
    tokens = TokenSet(**raw)
    company = FortnoxCompany(
        pending.new_database_number, pending.new_name, pending.new_organisation_number
    )
    other = connected_elsewhere(company_id, company.database_number)
    if other is not None:
        cancel_switch(company_id)
        return
    store_connection(company_id, conn.connected_by or "", tokens, company)
    from .outbox import enqueue_import
    from .queue import QueueUnavailable

    try:
        enqueue_import(company_id)
    except QueueUnavailable:
        pass  # the run is recorded as failed with the reason; Sync now starts it again


def cancel_switch(company_id: str) -> None:
    conn = get_connection(company_id)
    if conn is None or not conn.pending_tokens_enc:
        return
    raw = json.loads(state().cipher.decrypt(conn.pending_tokens_enc))
    _clear_pending(conn)
    session().commit()
    revoke_quietly(raw["refresh_token"])


def _clear_pending(conn: Connection) -> None:
    conn.pending_database_number = None
    conn.pending_company_name = None
    conn.pending_organisation_number = None
    conn.pending_tokens_enc = None
    conn.pending_since = None


def revoke_quietly(refresh_token: str) -> bool:
    """Revoke at Fortnox; a failure is logged, never raised (it must not block disconnect)."""
    try:
        oauth_client().revoke(refresh_token)
        return True
    except FortnoxError as exc:
        log.warning("Revoking the Fortnox token failed (%s); disconnecting anyway", exc.reason)
    except Exception as exc:  # network layer surprises: still never block disconnect
        log.warning(
            "Revoking the Fortnox token failed (%s); disconnecting anyway", type(exc).__name__
        )
    return False


def disconnect(company_id: str) -> bool:
    """Revoke, forget the tokens, keep everything else. False when there was nothing to do."""
    conn = get_connection(company_id)
    if conn is None or conn.status in (
        ConnectionStatus.DISCONNECTED, ConnectionStatus.NOT_CONNECTED
    ):
        return False
    refresh_enc = conn.refresh_token_enc
    pending_enc = conn.pending_tokens_enc
    conn.status = ConnectionStatus.DISCONNECTED
    conn.access_token_enc = None
    conn.refresh_token_enc = None
    conn.access_expires_at = None
    conn.refresh_expires_at = None
    conn.disconnected_at = utcnow()
    _clear_pending(conn)
    session().commit()
    cipher = state().cipher
    if refresh_enc:
        revoke_quietly(cipher.decrypt(refresh_enc))
    if pending_enc:
        revoke_quietly(json.loads(cipher.decrypt(pending_enc))["refresh_token"])
    signals.disconnected.send(_app(), company_id=company_id)
    return True
