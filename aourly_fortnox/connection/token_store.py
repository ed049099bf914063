"""The encrypted token store: one connection row, compare-and-set on every write."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from .. import signals
from ..fortnox.oauth import TokenSet
from ..i18n import N_
from ..models import Connection, ConnectionStatus, utcnow
from ..state import current_app_object, state

log = logging.getLogger("aourly_fortnox.connection")


class DatabaseTokenStore:
    """:class:`aourly_fortnox.fortnox.tokens.TokenStore` on the company's connection row.

    Works on its own short transactions (``engine.begin()``), so a refreshed pair is committed
    before it is used, whatever the caller's session is doing. Compare-and-set compares the
    stored ciphertext we read, since Fernet ciphertexts of one token differ each time.
    """

    def __init__(self, company_id: str) -> None:
        self.company_id = company_id
        self._state = state()

    def _row(self) -> Any:  # a Row of the columns below, or None
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
        """The SDK's tokens, or None if not Connected; a refresh token past 45 days expires here."""
        row = self._row()
        if row is None or row.status != ConnectionStatus.CONNECTED or not row.refresh_token_enc:
            return None
        cipher = self._state.cipher
        # UTCDateTime (models.py) hands back aware UTC times, on SQLite too.
        refresh_expires = row.refresh_expires_at
        if refresh_expires is not None and refresh_expires <= utcnow():
            # Past Fortnox's 45 days: only the owner's consent renews it.
            refresh = cipher.decrypt(row.refresh_token_enc)
            self.mark_expired(refresh, N_("The Fortnox authorization ran out after 45 days."))
            return None
        access_expires = row.access_expires_at
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
        """Store a refreshed pair unless another worker did first: refresh tokens are single use."""
        values = token_columns(new, utcnow(), self._state.settings.refresh_token_lifetime)
        return self._compare_and_set(old_refresh_token, values)

    def mark_expired(self, refused_refresh_token: str, reason: str | None = None) -> None:
        """Expire the connection and tell the host, unless a newer pair was stored meanwhile."""
        reason = reason or N_(
            "Fortnox no longer accepts the authorization of %(product)s (it was revoked, used "
            "elsewhere or ran out)."
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
            signals.connection_expired.send(
                current_app_object(), company_id=self.company_id, reason=reason
            )


def token_columns(tokens: TokenSet, now: datetime, refresh_lifetime: int) -> dict[str, object]:
    """The connection columns for a token pair: encrypted, with both expiry times."""
    cipher = state().cipher
    return {
        "access_token_enc": cipher.encrypt(tokens.access_token),
        "refresh_token_enc": cipher.encrypt(tokens.refresh_token),
        "access_expires_at": datetime.fromtimestamp(tokens.expires_at, UTC),
        # The refresh token's lifetime restarts with each new one (docs/fortnox.md,
        # "Authorization").
        "refresh_expires_at": now + timedelta(seconds=int(refresh_lifetime)),
        "token_refreshed_at": now,
        "scope": tokens.scope,
    }


