"""An authorization request waiting on the consent page (its own module, so the OAuth views and
the app both use it without importing each other)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PendingConsent:
    """An authorization request waiting on the consent page (keyed by its form nonce)."""

    session_id: str
    client_id: str
    scopes: list[str]
    redirect_uri: str
    redirect_uri_given: bool
    state: str
    service: bool
    expires: float
