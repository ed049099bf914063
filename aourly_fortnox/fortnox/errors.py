"""Typed errors of the Fortnox client layer (``client``, ``oauth``, ``tokens``, ``ratelimit``).

Every error carries ``status`` (HTTP status or None), ``code`` (Fortnox's ``ErrorInformation``
code or None), ``message`` (Fortnox's own text, verbatim, usually Swedish) and ``reason`` (plain
English for the company owner). None of them ever holds a token or a client secret: they are
built from status codes and error bodies only, never from request headers.

Which errors are worth retrying is the sync layer's decision (docs/architecture.md,
"Retries have one owner"); as a guide: :class:`TransientError` and :class:`RateLimited` are,
everything else is not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# Codes seen in docs/fortnox.md, "Errors", with what they mean to an owner. Fortnox's own
# message stays beside the reason (``message``), so an unknown code loses nothing.
REASONS: dict[int, str] = {
    1000003: "Fortnox had an internal error.",
    1000030: "Fortnox refused the request format (invalid Accept header).",
    1000031: "Fortnox refused the request format (invalid Content-Type).",
    2000106: "A value sent to Fortnox must contain only letters and digits.",
    2000108: "A value sent to Fortnox must be a number.",
    2000134: "A value sent to Fortnox must be true or false.",
    2000310: "Fortnox did not accept the login (access token or client secret is wrong).",
    2000311: "Fortnox could not log in: the access token is missing.",
    2000359: "A value sent to Fortnox contains characters Fortnox does not allow.",
    2000423: "The account does not exist in Fortnox's chart of accounts for that year.",
    2000427: "The currency does not exist in Fortnox.",
    2000428: "The article does not exist in Fortnox.",
    2000429: "The terms of payment do not exist in Fortnox.",
    2000432: "The unit does not exist in Fortnox.",
    2000433: "The customer does not exist in Fortnox.",
    2000434: "The invoice does not exist in Fortnox.",
    2000550: "The account is not active in Fortnox for that year.",
    2000587: "Fortnox did not accept a search filter.",
    2000588: "Fortnox did not accept a request parameter.",
    2000637: "The customer number is already used in Fortnox (numbers stay reserved even "
    "after a customer is deleted).",
    2000663: "The Fortnox connection lacks the permission (scope) needed; reconnect Fortnox "
    "to grant it.",
    2000729: "Fortnox needs a valid identifier in the request.",
    2001101: "The Fortnox company has no active licence for this module.",
    2001103: "The Fortnox company has no licence for the Fortnox API (integrations).",
    2001304: "Fortnox could not find an account; check the predefined accounts in Fortnox "
    "(Settings > Bookkeeping > Predefined accounts).",
    2001392: "Fortnox received no data or data of the wrong type.",
    2001399: "Fortnox did not recognise a field name in the request.",
    2001795: "Fields required by Fortnox are missing.",
    2002115: "Fortnox could not read the request (JSON syntax error).",
    2002381: "Fortnox did not accept the structure of the data (wrong data structure).",
    2004054: "Fortnox did not accept the login.",
    2004167: "With EasyVat in Fortnox, a row with a custom VAT rate must name an account.",
}

# Licence and scope problems: Fortnox answers these with 400 rather than 403
# (docs/fortnox.md, "Errors").
PERMISSION_CODES: frozenset[int] = frozenset({2000663, 2001101, 2001103})

_STATUS_REASONS: dict[int, str] = {
    400: "Fortnox rejected the data that was sent.",
    401: "Fortnox did not accept the access token.",
    403: "Fortnox denied access to this resource.",
    404: "Fortnox could not find it.",
    429: "Fortnox's rate limit was reached; the request can be sent again shortly.",
}


class FortnoxError(Exception):
    """Base class of everything the client layer raises about Fortnox."""

    default_reason = "Fortnox returned an error."

    def __init__(
        self,
        reason: str | None = None,
        *,
        status: int | None = None,
        code: int | None = None,
        message: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.reason = reason or default_reason(status, code) or self.default_reason
        super().__init__(self.reason)

    def __str__(self) -> str:
        """The reason with HTTP status, Fortnox's code and its verbatim message, for the log."""
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.code is not None:
            details.append(f"Fortnox code {self.code}")
        if self.message:
            details.append(f"Fortnox said: {self.message}")
        return f"{self.reason} ({'; '.join(details)})" if details else self.reason

    def __repr__(self) -> str:
        """Every field, so a log or a failing test shows which Fortnox answer it was."""
        return (
            f"{type(self).__name__}(reason={self.reason!r}, status={self.status!r}, "
            f"code={self.code!r}, message={self.message!r})"
        )


class AuthorizationExpired(FortnoxError):
    """Fortnox refused the refresh token (``invalid_grant``) or there is none: terminal.

    The connection becomes Expired and only the owner's new consent renews it; never retried
    (docs/fortnox.md, "Authorization").
    """

    default_reason = (
        "Fortnox no longer accepts this app's authorization (it was revoked, used elsewhere or "
        "ran out). The owner must reconnect Fortnox."
    )


class OAuthError(FortnoxError):
    """Fortnox's auth server refused a request (``invalid_client``, ``invalid_scope``,
    ``access_denied``, a bad or reused authorization code, ...). Not retryable.

    ``error`` is the OAuth error code. A 5xx, 429 or network failure at the token endpoint is
    a :class:`TransientError` instead, not an OAuthError: it says nothing about the request.
    """

    default_reason = "Fortnox's sign-in service refused the request."

    def __init__(
        self,
        reason: str | None = None,
        *,
        error: str = "invalid_request",
        description: str | None = None,
        status: int | None = None,
    ) -> None:
        self.error = error
        super().__init__(
            reason or OAUTH_REASONS.get(error), status=status, code=None, message=description
        )

    def __repr__(self) -> str:
        """Adds the OAuth error code, which tells a declined consent from a bad client setup."""
        return (
            f"OAuthError(error={self.error!r}, reason={self.reason!r}, status={self.status!r}, "
            f"message={self.message!r})"
        )


OAUTH_REASONS: dict[str, str] = {
    "access_denied": "Access was not granted in Fortnox (the consent was declined).",
    "invalid_client": "Fortnox did not accept the app's client id or client secret; check "
    "AOURLY_FORTNOX_CLIENT_ID and AOURLY_FORTNOX_CLIENT_SECRET.",
    "invalid_grant": "Fortnox did not accept the authorization code (it was already used or "
    "has expired); connect again.",
    "invalid_scope": "Fortnox refused the requested permissions (scopes).",
    "invalid_request": "Fortnox's sign-in service refused the request as malformed.",
    "redirect_uri_mismatch": "The redirect URI does not match the one registered with "
    "Fortnox; check AOURLY_FORTNOX_REDIRECT_URI.",
    "unauthorized_client": "This app is not allowed to use that kind of sign-in at Fortnox.",
    "invalid_state": "The sign-in could not be verified (state mismatch); start again.",
    "invalid_response": "Fortnox's sign-in service sent an answer that could not be read.",
}


class Unauthorized(FortnoxError):
    """401 even after one forced token refresh."""

    default_reason = "Fortnox did not accept the access token, even a freshly refreshed one."


class RateLimited(FortnoxError):
    """429 from Fortnox, or our own limiter could not admit the request in time."""

    default_reason = _STATUS_REASONS[429]

    def __init__(
        self,
        reason: str | None = None,
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        code: int | None = None,
        message: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(reason, status=status, code=code, message=message)


class ValidationFailed(FortnoxError):
    """400 with ``ErrorInformation``: Fortnox refused the data. ``code``/``message`` verbatim."""

    default_reason = _STATUS_REASONS[400]


class PermissionDenied(ValidationFailed):
    """A scope or licence problem (codes 2000663, 2001101, 2001103) or a 403."""

    default_reason = _STATUS_REASONS[403]


class NotFound(FortnoxError):
    """404: the resource does not exist in Fortnox."""

    default_reason = _STATUS_REASONS[404]


class TransientError(FortnoxError):
    """5xx, timeouts, connection failures, an unavailable lock: worth retrying later.

    For a write (POST/PUT) the outcome is unknown: Fortnox may have applied it.
    """

    default_reason = "Fortnox could not be reached or had a temporary problem."


def default_reason(status: int | None, code: int | None) -> str | None:
    """The plain-language reason for a Fortnox code, else for an HTTP status, else None."""
    if code is not None and code in REASONS:
        return REASONS[code]
    if status is not None:
        if status in _STATUS_REASONS:
            return _STATUS_REASONS[status]
        if status >= 500:
            return f"Fortnox had a temporary problem (HTTP {status})."
    return None


def _get_ci(mapping: Mapping[str, Any], name: str) -> Any:
    """Case-insensitive key lookup: Fortnox sends ``Code`` on 404s, ``code`` on 400s (13)."""
    if name in mapping:
        return mapping[name]
    lowered = name.lower()
    for key, value in mapping.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


def _as_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def parse_error_body(body: str | bytes | None) -> tuple[int | None, str | None]:
    """``(code, message)`` from a Fortnox error body, leniently.

    Accepts ``{"ErrorInformation": {"Error", "Message", "Code"}}`` in either casing, the code
    as int or string, a bare ``{"message": "unauthorized"}`` (401s), and non-JSON bodies
    (outages answer HTML; docs/fortnox.md, "Errors"), for which it returns ``(None, None)``.
    """
    if not body:
        return None, None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    info = _get_ci(data, "ErrorInformation")
    source: Mapping[str, Any] = info if isinstance(info, dict) else data
    code = _as_code(_get_ci(source, "code"))
    message = _get_ci(source, "message")
    if message is None and isinstance(_get_ci(source, "error"), str):
        message = _get_ci(source, "error")
    return code, (str(message) if message is not None else None)


def error_for_response(
    status: int, body: str | bytes | None, *, retry_after: float | None = None
) -> FortnoxError:
    """The typed error for a non-2xx Fortnox API response (401 is handled by the client)."""
    code, message = parse_error_body(body)
    if status == 429:
        return RateLimited(retry_after=retry_after, code=code, message=message)
    if status == 404:
        return NotFound(status=status, code=code, message=message)
    if status == 403 or (code in PERMISSION_CODES):
        return PermissionDenied(status=status, code=code, message=message)
    if status == 401:
        return Unauthorized(status=status, code=code, message=message)
    if status >= 500 or status == 408:
        return TransientError(status=status, code=code, message=message)
    if status == 400:
        return ValidationFailed(status=status, code=code, message=message)
    return FortnoxError(status=status, code=code, message=message)
