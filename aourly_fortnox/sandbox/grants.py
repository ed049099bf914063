"""Consents, authorization codes and tokens: what Fortnox's OAuth server remembers.

A *consent* is one "Grant Access" by a person: (client, company, scopes); every token issued
for it, through all its refreshes, is its *chain*. Refresh tokens rotate and are single use.
Fortnox warns that simultaneous refreshes "could result in token invalidation"; the sandbox
takes the pessimistic reading (docs/sandbox.md): a refresh token presented a second time
revokes the whole chain, every refresh and access token of the consent, unless the setting
``refresh_reuse_revokes`` is off (then the second use is only refused). A client must make a
second use impossible (a per-company lock), not recover from one.

``/oauth-v1/revoke`` *closes* the consent: no refresh or client-credentials token is issued
for it any more, but access tokens already issued work until they expire, as Fortnox
documents ("Revoke of access-token is not supported"). A consent *withdrawn* by the company
(the admin API) stops every token at once.

Access tokens are JWT-shaped (HS256 with a per-sandbox secret kept in the store) with the
claims ``tenantId`` (the DatabaseNumber), ``clientId``, ``scope``, ``sub`` (``1@<tenant>`` for
a person, ``2@<tenant>`` for a service account), ``iat``, ``exp`` and ``jti``; the server still
looks every token up by its SHA-256, so expiry and revocation are the store's word.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from .store import Store


@dataclass(frozen=True)
class TokenOwner:
    """Who a bearer token belongs to; ``valid`` is False for expired or revoked tokens."""

    client_id: str
    db: int
    scopes: frozenset[str]
    valid: bool


@dataclass(frozen=True)
class AuthCode:
    """An authorization code as redeemed: what the token exchange turns into a consent."""

    client_id: str
    db: int
    scope: str
    redirect_uri: str | None
    service: bool


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _ttl_number(seconds: float) -> int | float:
    return int(seconds) if float(seconds).is_integer() else seconds


class Grants:
    """OAuth bookkeeping on top of :class:`Store` (its lock makes each step atomic)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        secret = store.meta("jwt_secret")
        if secret is None:
            secret = secrets.token_hex(32)
            store.set_meta("jwt_secret", secret)
        self._secret = secret.encode("ascii")

    # -- JWT ----------------------------------------------------------------------------------

    def _jwt(self, claims: dict[str, Any]) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256)
        return f"{header}.{payload}.{_b64(signature.digest())}"

    def read_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this sandbox signed, else None (no expiry check)."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        expected = hmac.new(self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256)
        try:
            if not hmac.compare_digest(_b64(expected.digest()), parts[2]):
                return None
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, json.JSONDecodeError):
            return None
        return claims if isinstance(claims, dict) else None

    # -- authorization codes ----------------------------------------------------------------------

    def issue_code(
        self,
        client_id: str,
        db: int,
        scope: str,
        redirect_uri: str | None,
        service: bool,
        ttl: float,
    ) -> str:
        """A code for the consent just given: single use, for ``ttl`` s (10 minutes at Fortnox)."""
        code = str(uuid.uuid4())
        self.store.execute(
            "INSERT INTO auth_code (code, client_id, db, scope, redirect_uri, service, expires)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (code, client_id, db, scope, redirect_uri, int(service), time.time() + ttl),
        )
        return code

    def code_tenant(self, code: str) -> int | None:
        """The company a code was issued for, so the token call is counted even if it fails."""
        rows = self.store.execute("SELECT db FROM auth_code WHERE code = ?", (code,))
        return int(rows[0]["db"]) if rows else None

    def consume_code(self, code: str, client_id: str, redirect_uri: str | None) -> AuthCode | None:
        """Single use: the code is spent by this call whether or not the checks pass."""
        with self.store.transaction():
            rows = self.store.execute("SELECT * FROM auth_code WHERE code = ?", (code,))
            if not rows:
                return None
            row = rows[0]
            self.store.execute("UPDATE auth_code SET used = 1 WHERE code = ?", (code,))
            if row["used"] or row["expires"] <= time.time() or row["client_id"] != client_id:
                return None
            # The redirect_uri must repeat the one the authorization request carried.
            if row["redirect_uri"] is not None and redirect_uri != row["redirect_uri"]:
                return None
            return AuthCode(
                row["client_id"],
                int(row["db"]),
                row["scope"],
                row["redirect_uri"],
                bool(row["service"]),
            )

    # -- tokens -------------------------------------------------------------------------------

    def create_consent(self, client_id: str, db: int, scope: str, service: bool) -> str:
        """Record one "Grant Access": each token issued for it, refreshes included, is its chain."""
        consent_id = str(uuid.uuid4())
        self.store.execute(
            "INSERT INTO consent (id, client_id, db, scope, service, created)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (consent_id, client_id, db, scope, int(service), time.time()),
        )
        return consent_id

    def issue_tokens(
        self, consent_id: str, access_ttl: float, refresh_ttl: float | None
    ) -> dict[str, Any]:
        """A token response; ``refresh_ttl=None`` (client credentials) gives no refresh token."""
        with self.store.transaction():
            consent = self.store.execute("SELECT * FROM consent WHERE id = ?", (consent_id,))[0]
            now = time.time()
            db = int(consent["db"])
            access = self._jwt(
                {
                    "iss": "fortnox-sandbox",
                    "sub": f"{2 if consent['service'] else 1}@{db}",
                    "tenantId": db,
                    "clientId": consent["client_id"],
                    "scope": consent["scope"],
                    "iat": int(now),
                    "exp": int(now + access_ttl),
                    "jti": str(uuid.uuid4()),
                }
            )
            self.store.execute(
                "INSERT INTO access_token (digest, consent_id, expires) VALUES (?, ?, ?)",
                (_digest(access), consent_id, now + access_ttl),
            )
            response: dict[str, Any] = {"access_token": access}
            if refresh_ttl is not None:
                refresh = str(uuid.uuid4())
                self.store.execute(
                    "INSERT INTO refresh_token (token, consent_id, expires) VALUES (?, ?, ?)",
                    (refresh, consent_id, now + refresh_ttl),
                )
                response["refresh_token"] = refresh
            response.update(
                {
                    "scope": consent["scope"],
                    "expires_in": _ttl_number(access_ttl),
                    "token_type": "bearer",
                }
            )
            return response

    def refresh_tenant(self, token: str) -> int | None:
        """The company of a refresh token, so a refused refresh is counted in the stats too."""
        rows = self.store.execute(
            "SELECT c.db FROM refresh_token r JOIN consent c ON c.id = r.consent_id"
            " WHERE r.token = ?",
            (token,),
        )
        return int(rows[0]["db"]) if rows else None

    def rotate(
        self,
        token: str,
        client_id: str,
        access_ttl: float,
        refresh_ttl: float,
        *,
        reuse_revokes: bool,
    ) -> dict[str, Any] | None:
        """Spend a refresh token and issue the next pair; None when Fortnox says invalid_grant.

        A token already spent counts one more use and, with ``reuse_revokes``, revokes its
        chain: both racers lose, as the pessimistic reading of Fortnox's warning has it.
        """
        with self.store.transaction():
            rows = self.store.execute(
                "SELECT r.used, r.expires, r.consent_id, c.client_id, c.revoked, c.closed"
                " FROM refresh_token r JOIN consent c ON c.id = r.consent_id WHERE r.token = ?",
                (token,),
            )
            if not rows or rows[0]["client_id"] != client_id:
                return None
            row = rows[0]
            if row["used"]:
                self.store.execute(
                    "UPDATE refresh_token SET used = used + 1 WHERE token = ?", (token,)
                )
                if reuse_revokes:
                    self.store.execute(
                        "UPDATE consent SET revoked = 1 WHERE id = ?", (row["consent_id"],)
                    )
                return None
            if row["revoked"] or row["closed"] or row["expires"] <= time.time():
                return None
            self.store.execute("UPDATE refresh_token SET used = 1 WHERE token = ?", (token,))
            return self.issue_tokens(row["consent_id"], access_ttl, refresh_ttl)

    def service_consent(self, client_id: str, db: int) -> str | None:
        """The live service-account consent a client-credentials request may use."""
        rows = self.store.execute(
            "SELECT id FROM consent WHERE client_id = ? AND db = ? AND service = 1"
            " AND revoked = 0 AND closed = 0 ORDER BY created DESC",
            (client_id, db),
        )
        return rows[0]["id"] if rows else None

    def owner(self, token: str) -> TokenOwner | None:
        """Look a bearer token up; None if this sandbox never issued it."""
        rows = self.store.execute(
            "SELECT a.expires, c.client_id, c.db, c.scope, c.revoked FROM access_token a"
            " JOIN consent c ON c.id = a.consent_id WHERE a.digest = ?",
            (_digest(token),),
        )
        if not rows:
            return None
        row = rows[0]
        valid = not row["revoked"] and row["expires"] > time.time()
        return TokenOwner(row["client_id"], int(row["db"]), frozenset(row["scope"].split()), valid)

    # -- revocation and expiry ----------------------------------------------------------------

    def close_by_refresh_token(self, token: str, client_id: str) -> bool:
        """``/oauth-v1/revoke``: close the consent a refresh token (even an already rotated
        one) belongs to. Its access tokens keep working until they expire."""
        with self.store.transaction():
            rows = self.store.execute(
                "SELECT c.id FROM refresh_token r JOIN consent c ON c.id = r.consent_id"
                " WHERE r.token = ? AND c.client_id = ?",
                (token, client_id),
            )
            if not rows:
                return False
            self.store.execute("UPDATE consent SET closed = 1 WHERE id = ?", (rows[0]["id"],))
            return True

    def revoke_company(self, db: int) -> int:
        """The company withdrew every consent (what the admin API's revoke simulates)."""
        with self.store.transaction():
            rows = self.store.execute(
                "SELECT COUNT(*) AS n FROM consent WHERE db = ? AND revoked = 0", (db,)
            )
            self.store.execute("UPDATE consent SET revoked = 1 WHERE db = ?", (db,))
            return int(rows[0]["n"])

    def refresh_tokens(self) -> list[dict[str, Any]]:
        """Every refresh token ever issued, oldest first.

        ``uses``: 1 once a refresh spent it, plus 1 for every later attempt to spend it again
        (a token refused before it was ever spent stays 0). A client that never races leaves
        every token at 0 or 1. ``state``: ``revoked`` (its chain was withdrawn, or killed by
        a reuse), ``closed`` (``/oauth-v1/revoke``), ``used``, ``expired`` or ``live``.
        """
        rows = self.store.execute(
            "SELECT r.token, r.used, r.expires, r.consent_id, c.client_id, c.db, c.revoked,"
            " c.closed FROM refresh_token r JOIN consent c ON c.id = r.consent_id"
            " ORDER BY r.rowid"
        )
        now = time.time()
        result = []
        for row in rows:
            if row["revoked"]:
                state = "revoked"
            elif row["closed"]:
                state = "closed"
            elif row["used"]:
                state = "used"
            else:
                state = "expired" if row["expires"] <= now else "live"
            result.append(
                {
                    "key": f"{row['client_id']}/{row['db']}",
                    "consent": row["consent_id"],
                    "refresh_token": row["token"],
                    "uses": int(row["used"]),
                    "state": state,
                }
            )
        return result

    def expire_all(self, refresh: bool) -> dict[str, int]:
        """Every access token (and with ``refresh`` every refresh token) expires now."""
        with self.store.transaction():
            now = time.time()
            live = self.store.execute(
                "SELECT COUNT(*) AS n FROM access_token WHERE expires > ?", (now,)
            )
            self.store.execute(
                "UPDATE access_token SET expires = ? WHERE expires > ?", (now - 1, now)
            )
            result = {"access_tokens": int(live[0]["n"]), "refresh_tokens": 0}
            if refresh:
                live = self.store.execute(
                    "SELECT COUNT(*) AS n FROM refresh_token WHERE expires > ? AND used = 0",
                    (now,),
                )
                self.store.execute(
                    "UPDATE refresh_token SET expires = ? WHERE expires > ?", (now - 1, now)
                )
                result["refresh_tokens"] = int(live[0]["n"])
            return result
