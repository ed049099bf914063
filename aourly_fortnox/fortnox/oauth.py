"""HTTP to Fortnox's auth server: authorization URL, code exchange, refresh, revoke.

Rides on Authlib's requests integration. Knows nothing about Flask, sessions or the database;
concurrency around refresh lives in :mod:`aourly_fortnox.tokens`.

Authlib and Fortnox's quirks, checked against Authlib 1.9's source:

- The token endpoint serves JSON as ``text/html`` or ``text/plain`` (docs/fortnox.md,
  "Authorization").
  Authlib reads it with ``requests.Response.json()``, which ignores Content-Type, so it copes;
  tests pin that down.
- Authlib raises ``HTTPError`` for a 5xx before looking at the body, and its ``OAuthError``
  for a JSON ``{"error": ...}`` body, without the HTTP status; a response hook records the
  status so our errors carry it.
- ``client_secret_basic`` in Authlib is ``base64(client_id:client_secret)`` without
  form-encoding, which is exactly what Fortnox documents (2.2).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import requests
from authlib.integrations.base_client.errors import OAuthError as AuthlibOAuthError
from authlib.integrations.requests_client import OAuth2Session

from .errors import AuthorizationExpired, OAuthError, TransientError

log = logging.getLogger("aourly_fortnox.oauth")

# Fortnox's documented lifetime (docs/fortnox.md, "Numbers"), used only if an answer omits
# expires_in.
DEFAULT_EXPIRES_IN = 3600.0


@dataclass(frozen=True)
class TokenSet:
    """An access/refresh token pair as Fortnox issued it. Its repr hides both tokens."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float  # epoch seconds, by our clock (measured from when we asked)
    scope: str = ""

    def expires_in(self, now: float | None = None) -> float:
        """Seconds until the access token expires (negative once it has)."""
        return self.expires_at - (time.time() if now is None else now)

    @classmethod
    def from_response(cls, data: Mapping[str, Any], *, requested_at: float, scope: str) -> TokenSet:
        """Build from a token-endpoint answer; ``expires_at`` counts from ``requested_at``."""
        access = data.get("access_token")
        refresh = data.get("refresh_token")
        if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
            raise OAuthError(error="invalid_response", description="tokens missing in the answer")
        try:
            expires_in = float(data.get("expires_in") or DEFAULT_EXPIRES_IN)
        except (TypeError, ValueError):
            expires_in = DEFAULT_EXPIRES_IN
        return cls(
            access_token=access,
            refresh_token=refresh,
            expires_at=requested_at + expires_in,
            scope=str(data.get("scope") or scope),
        )


SessionFactory = Callable[..., OAuth2Session]


def encode_redirect_uri(redirect_uri: str) -> str:
    """The ``redirect_uri`` as it goes into the authorization URL's query string.

    The one place that decides its encoding. Fortnox's page says "URL-encoded"; one team
    reported that Fortnox compares the raw string (uncertain; docs/fortnox.md, "Authorization").
    We follow the documentation and RFC 6749: percent-encode every reserved character, so the query
    string parses unambiguously even when the URI has its own ``?`` or ``&``.
    """
    return quote(redirect_uri, safe="")


def build_authorization_url(
    auth_url: str, client_id: str, state: str, scopes: str, redirect_uri: str | None
) -> str:
    """``<auth_url>/auth?client_id&response_type=code&state&scope&redirect_uri&access_type``."""
    # Scopes are space-delimited and sent as %20, the form Fortnox's examples show (2.1).
    query = urlencode(
        {"client_id": client_id, "response_type": "code", "state": state, "scope": scopes},
        quote_via=quote,
    )
    if redirect_uri:
        query += "&redirect_uri=" + encode_redirect_uri(redirect_uri)
    # offline: refresh without the user present (2.1).
    query += "&access_type=offline"
    return f"{auth_url.rstrip('/')}/auth?{query}"


def parse_callback(args: Mapping[str, str], expected_state: str) -> str:
    """The authorization code from Fortnox's redirect, or OAuthError.

    Checks ``state`` first (constant time), then an ``error`` redirect such as
    ``error=access_denied`` (its shape is undocumented, docs/fortnox.md, "Authorization", so
    any ``error`` counts), then that a code is present.
    """
    returned = args.get("state") or ""
    if not expected_state or not hmac.compare_digest(returned, expected_state):
        raise OAuthError(error="invalid_state")
    error = args.get("error")
    if error:
        raise OAuthError(error=error, description=args.get("error_description") or None)
    code = args.get("code")
    if not code:
        raise OAuthError(error="invalid_request", description="no authorization code")
    return code


class FortnoxOAuth:
    """Fortnox's OAuth 2 endpoints for one app (client id/secret)."""

    def __init__(
        self,
        auth_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str | None,
        scopes: str,
        timeout: float = 10.0,
        session_factory: SessionFactory | None = None,
    ) -> None:
        self.auth_url = auth_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.scopes = scopes
        self.timeout = timeout
        self._session_factory: SessionFactory = session_factory or OAuth2Session

    def __repr__(self) -> str:
        """Names the app in logs; the client secret is left out."""
        return f"FortnoxOAuth(auth_url={self.auth_url!r}, client_id={self.client_id!r})"

    @property
    def token_url(self) -> str:
        """Where codes are exchanged and refresh tokens rotated."""
        return f"{self.auth_url}/token"

    @property
    def revoke_url(self) -> str:
        """Where a disconnect ends the refresh token (access tokens cannot be revoked)."""
        return f"{self.auth_url}/revoke"

    def authorization_url(self, state: str, redirect_uri: str | None = None) -> str:
        """Where to send the owner to grant access (Fortnox's consent page)."""
        return build_authorization_url(
            self.auth_url, self.client_id, state, self.scopes, redirect_uri or self.redirect_uri
        )

    def exchange_code(self, code: str, redirect_uri: str | None = None) -> TokenSet:
        """Trade an authorization code (10 minutes, single use) for tokens.

        A bad or reused code is ``OAuthError(error="invalid_grant")``, not AuthorizationExpired:
        there is no connection yet to expire.
        """
        if not code:
            raise OAuthError(error="invalid_request", description="no authorization code")
        uri = redirect_uri or self.redirect_uri
        extra = {"redirect_uri": uri} if uri else {}
        return self._token_call(
            "authorization_code",
            lambda s: s.fetch_token(
                self.token_url, grant_type="authorization_code", code=code,
                timeout=self.timeout, **extra,
            ),
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        """Rotate: the old refresh token dies, the answer holds a new one (2.3, 2.4).

        ``invalid_grant`` -> AuthorizationExpired; other OAuth errors (e.g. 401
        ``invalid_client``) -> OAuthError; 5xx, 429, network -> TransientError.
        """
        if not refresh_token:
            raise AuthorizationExpired(reason="There is no Fortnox refresh token stored.")
        return self._token_call(
            "refresh_token",
            lambda s: s.refresh_token(
                self.token_url, refresh_token=refresh_token, timeout=self.timeout
            ),
        )

    def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token (2.7). One Fortnox already refuses counts as revoked."""
        try:
            with self._session() as session:
                resp = session.revoke_token(
                    self.revoke_url, token=refresh_token, token_type_hint="refresh_token",
                    timeout=self.timeout,
                )
        except requests.RequestException as exc:
            raise _network_error(exc) from None
        if resp.ok:
            return
        if resp.status_code >= 500 or resp.status_code == 429:
            raise TransientError(status=resp.status_code)
        error, description = _oauth_error_fields(resp)
        if error in ("invalid_grant", "invalid_token"):
            return  # RFC 7009: an already invalid token needs no revoking
        raise OAuthError(error=error or "invalid_request", description=description,
                         status=resp.status_code)

    # -- internals ---------------------------------------------------------------------------
    def _session(self) -> OAuth2Session:
        # A fresh session per call: OAuth2Session keeps the last token as state, which must
        # not leak between tenants or threads.
        return self._session_factory(
            client_id=self.client_id,
            client_secret=self._client_secret,
            token_endpoint_auth_method="client_secret_basic",
            revocation_endpoint_auth_method="client_secret_basic",
        )

    def _token_call(self, grant: str, call: Callable[[OAuth2Session], Any]) -> TokenSet:
        statuses: list[int] = []

        def remember_status(resp: requests.Response) -> requests.Response:
            statuses.append(resp.status_code)
            return resp

        requested_at = time.time()
        try:
            with self._session() as session:
                session.register_compliance_hook("access_token_response", remember_status)
                session.register_compliance_hook("refresh_token_response", remember_status)
                data = call(session)
        except AuthlibOAuthError as exc:
            status = statuses[-1] if statuses else None
            raise _oauth_error(grant, str(exc.error or ""), exc.description, status) from None
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status is not None and (status >= 500 or status == 429):
                raise TransientError(status=status) from None
            # A 4xx without a JSON body: nothing to tell but the status.
            raise _oauth_error(grant, "invalid_response", None, status) from None
        except requests.RequestException as exc:
            raise _network_error(exc) from None
        except ValueError:
            # Authlib: a 2xx/3xx answer that is not a JSON object (a proxy's page, say).
            status = statuses[-1] if statuses else None
            raise TransientError(
                reason="Fortnox's sign-in service sent an answer that could not be read.",
                status=status,
            ) from None
        log.info("Fortnox token endpoint: %s grant ok", grant)
        return TokenSet.from_response(data, requested_at=requested_at, scope=self.scopes)


def _oauth_error(
    grant: str, error: str, description: str | None, status: int | None
) -> AuthorizationExpired | OAuthError:
    log.info("Fortnox token endpoint refused %s grant: %s (HTTP %s)", grant, error, status)
    if grant == "refresh_token" and error == "invalid_grant":
        # Used, expired or revoked refresh token: terminal (2.6, gotcha 2).
        return AuthorizationExpired(status=status, message=description)
    return OAuthError(error=error or "invalid_request", description=description, status=status)


def _oauth_error_fields(resp: requests.Response) -> tuple[str | None, str | None]:
    try:
        data = resp.json()  # JSON whatever the Content-Type says (2.6)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    error = data.get("error")
    description = data.get("error_description")
    return (
        str(error) if error else None,
        str(description) if description else None,
    )


def _network_error(exc: requests.RequestException) -> TransientError:
    return TransientError(
        reason=f"Fortnox's sign-in service could not be reached ({type(exc).__name__})."
    )
