"""A company's connection state machine: connect, switch company, expire, disconnect.

Knows the database and the token cipher; knows nothing about HTTP requests to the plugin,
and starts no job: callers (the web layer) queue the import after a state change.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import select

from .. import signals
from ..config import ConfigError
from ..fortnox.errors import FortnoxError
from ..fortnox.oauth import TokenSet
from ..models import Connection, ConnectionStatus, utcnow
from ..queries import count_unrecorded_invoices, get_connection, session
from ..state import current_app_object, state
from .clients import FortnoxCompany, oauth_client
from .token_store import token_columns

log = logging.getLogger("aourly_fortnox.connection")


@dataclass(frozen=True)
class PendingSwitch:
    """A different Fortnox company the owner signed in to, waiting for confirmation."""

    old_name: str
    old_database_number: int | None
    new_name: str
    new_database_number: int
    new_organisation_number: str



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
    # "Connected since" is when this connection began: a reconnect after a disconnect starts
    # a new one (a reconnect after expiry renews the same one).
    new_connection = first_time_here or conn.status in (
        ConnectionStatus.DISCONNECTED, ConnectionStatus.NOT_CONNECTED)
    # The grants these tokens replace (a reconnect's old pair, a switch's old company, a
    # switch left waiting): revoked at Fortnox once the new pair is stored, never left live.
    replaced = _stored_refresh_tokens(conn) - {tokens.refresh_token}
    for column, value in token_columns(
        tokens, now, state().settings.refresh_token_lifetime
    ).items():
        setattr(conn, column, value)
    conn.status = ConnectionStatus.CONNECTED
    conn.database_number = company.database_number
    conn.fortnox_company_name = company.name
    conn.organisation_number = company.organisation_number
    conn.connected_by = user_id
    if new_connection or conn.connected_at is None:
        conn.connected_at = now
    if first_time_here or conn.earlier_unrecorded is None:
        # Invoices sent before the plugin was installed (or, after a switch, sent to the old
        # company only): counted once here, offered on the card, never counted per render.
        conn.earlier_unrecorded = count_unrecorded_invoices(company_id, company.database_number)
    conn.disconnected_at = None
    conn.expired_at = None
    conn.expired_reason = None
    _clear_pending(conn)
    db_session.commit()
    for refresh_token in sorted(replaced):
        revoke_quietly(refresh_token)
    signals.connected.send(
        current_app_object(),
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
    replaced = _stored_refresh_tokens(conn, live=False)  # an earlier switch left waiting
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
    for refresh_token in sorted(replaced - {tokens.refresh_token}):
        revoke_quietly(refresh_token)


def pending_switch(company_id: str) -> PendingSwitch | None:
    """The switch waiting for the owner's confirmation, if any."""
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


def confirm_switch(company_id: str, user_id: str) -> bool:
    """Connect to the waiting Fortnox company, credited to ``user_id`` (the owner who
    confirmed it). False when nothing changed; the caller then queues nothing (the import
    after a switch is the caller's to start)."""
    conn = get_connection(company_id)
    pending = pending_switch(company_id)
    if conn is None or pending is None:
        return False
    raw = json.loads(state().cipher.decrypt(conn.pending_tokens_enc or ""))
    tokens = TokenSet(**raw)
    company = FortnoxCompany(
        pending.new_database_number, pending.new_name, pending.new_organisation_number
    )
    other = connected_elsewhere(company_id, company.database_number)
    if other is not None:
        cancel_switch(company_id)
        return False
    store_connection(company_id, user_id, tokens, company)
    return True


def cancel_switch(company_id: str) -> None:
    """Forget the waiting company and revoke its token: nothing of it is kept."""
    conn = get_connection(company_id)
    if conn is None or not conn.pending_tokens_enc:
        return
    raw = json.loads(state().cipher.decrypt(conn.pending_tokens_enc))
    _clear_pending(conn)
    session().commit()
    revoke_quietly(raw["refresh_token"])


def _stored_refresh_tokens(conn: Connection, live: bool = True) -> set[str]:
    """The refresh tokens a row holds (its live pair unless ``live`` is False, and a switch
    waiting for confirmation). One that cannot be decrypted is skipped: it is unusable anyway."""
    cipher = state().cipher
    found: set[str] = set()
    try:
        if live and conn.refresh_token_enc:
            found.add(cipher.decrypt(conn.refresh_token_enc))
        if conn.pending_tokens_enc:
            found.add(json.loads(cipher.decrypt(conn.pending_tokens_enc))["refresh_token"])
    except ConfigError:
        log.warning("A stored Fortnox token of company %s cannot be decrypted; it is not "
                    "revoked at Fortnox", conn.company_id)
    return found


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
    signals.disconnected.send(current_app_object(), company_id=company_id)
    return True
