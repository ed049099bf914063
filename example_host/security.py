"""The example host's own protections: login throttling, equal work for unknown e-mails,
sessions that end at logout, cookie flags and security headers.

What a real Aourly host does in its own way; the plugin adds its headers to its own pages
whatever the host does (``aourly_fortnox.web.views.security_headers``).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from functools import cache
from typing import Any

from flask import Flask, Response, current_app, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import generate_password_hash

#: Every answer of the host: no framing (clickjacking), no content sniffing, no URL of ours
#: in another site's Referer. The plugin's pages carry the same.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

#: The session's copy of the user's session version; logout raises the user's, so every
#: cookie issued before it (copied or not) stops working.
SESSION_VERSION_KEY = "session_version"

THROTTLE_KEY = "example_host_login_throttle"


@cache
def dummy_password_hash() -> str:
    """A hash of a random password, checked when the e-mail is unknown: the answer then takes
    as long as for a known account with a wrong password, so accounts cannot be probed."""
    return generate_password_hash(secrets.token_urlsafe(16))


class LoginThrottle:
    """Failed logins per account and per address in a sliding window, in this process.

    Past ``per_account`` failures for one e-mail, or ``per_address`` from one address, within
    ``window`` seconds, every login for it is refused (the right password too) until the
    oldest failure leaves the window. A success forgets the account's failures, not the
    address's. Per process: a host with several web processes keeps these in a shared store.
    """

    def __init__(self, per_account: int, per_address: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str]:
        return f"account:{email.strip().lower()}", f"address:{address}"

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, email: str, address: str) -> bool:
        """Whether a login for ``email`` from ``address`` is refused without checking it."""
        account, source = self._keys(email, address)
        with self._lock:
            now = self.clock()
            return (len(self._recent(account, now)) >= self.per_account
                    or len(self._recent(source, now)) >= self.per_address)

    def failed(self, email: str, address: str) -> None:
        """Count a wrong password (or unknown e-mail) against both the account and address."""
        with self._lock:
            now = self.clock()
            for key in self._keys(email, address):
                self._recent(key, now).append(now)

    def succeeded(self, email: str) -> None:
        """The account's owner got in: their earlier typos no longer count."""
        account, _ = self._keys(email, "")
        with self._lock:
            self._failures.pop(account, None)


def login_throttle() -> LoginThrottle:
    """This app's throttle (made by :func:`init_security`)."""
    throttle: LoginThrottle = current_app.extensions[THROTTLE_KEY]
    return throttle


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with ``Secure`` whenever the request came over HTTPS
    (behind a proxy: with ProxyFix trusting its X-Forwarded-Proto), or always if configured."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """``SESSION_COOKIE_SECURE``, or this request's scheme."""
        return bool(super().get_cookie_secure(app) or request.is_secure)


def add_security_headers(response: Response) -> Response:
    """The headers above, where nothing set them already."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_security(app: Flask) -> None:
    """Throttle, session cookie and headers for ``app``."""
    config: dict[str, Any] = app.config
    app.extensions[THROTTLE_KEY] = LoginThrottle(
        per_account=int(config["LOGIN_FAILURES_PER_ACCOUNT"]),
        per_address=int(config["LOGIN_FAILURES_PER_ADDRESS"]),
        window=float(config["LOGIN_FAILURE_WINDOW"]),
    )
    app.session_interface = SessionInterface()
    app.after_request(add_security_headers)
