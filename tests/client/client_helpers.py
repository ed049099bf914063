"""Shared constants and builders for the client-layer tests (a unique module name, so it
never collides with another directory's conftest)."""

from __future__ import annotations

import time
from typing import Any

from aourly_fortnox.fortnox.oauth import TokenSet

API = "https://api.fortnox.test"
AUTH = "https://apps.fortnox.test/oauth-v1"
SECRET = "s3cret-client-secret"


def make_tokens(
    access: str = "access-OLD-0123456789", refresh: str = "refresh-OLD-0123456789",
    expires_in: float = 3600.0,
) -> TokenSet:
    return TokenSet(access_token=access, refresh_token=refresh,
                    expires_at=time.time() + expires_in, scope="customer invoice")


def token_body(access: str, refresh: str, expires_in: int = 3600) -> dict[str, Any]:
    return {"access_token": access, "refresh_token": refresh, "scope": "customer invoice",
            "expires_in": expires_in, "token_type": "bearer"}
