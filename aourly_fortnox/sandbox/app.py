"""The sandbox Flask app: Fortnox's OAuth and REST paths, the admin API and a read-only view.

:func:`create_app` wires one :class:`Sandbox` (settings, store, limiter, faults, stats) into a
Flask app under ``app.extensions["fortnox_sandbox"]``; nothing lives at module level, so
several sandboxes can run in one process (tests do).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

from . import errors, gate
from .consent import PendingConsent
from .faults import Faults, SlidingWindowLimiter, Stats
from .grants import Grants
from .settings import Settings
from .store import Store

#: Cookies ignore ports: with Flask's default name the consent page on :8765 would replace the
#: host's own session on :5000 of the same 127.0.0.1 (docs/architecture.md).
SESSION_COOKIE_NAME = "fortnox_sandbox_session"


@dataclass
class Sandbox:
    """Everything one running sandbox knows."""

    settings: Settings
    store: Store
    grants: Grants
    limiter: SlidingWindowLimiter = field(default_factory=SlidingWindowLimiter)
    faults: Faults = field(default_factory=Faults)
    stats: Stats = field(default_factory=Stats)
    pending: dict[str, PendingConsent] = field(default_factory=dict)
    pending_lock: threading.Lock = field(default_factory=threading.Lock)


def open_store(settings: Settings) -> Store:
    """The store for these settings, seeded on first use (a ``--db`` file keeps its data)."""
    from .seed import seed_if_empty

    store = Store(settings.db)
    seed_if_empty(store, seed=settings.seed, extra_accounts=settings.extra_accounts)
    return store


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    """A sandbox app; without ``store`` one is opened (and seeded) from ``settings``."""
    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .oauth import bp as oauth_bp
    from .web import bp as web_bp

    settings = settings or Settings()
    store = store or open_store(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_hex(32),
        SESSION_COOKIE_NAME=SESSION_COOKIE_NAME,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["fortnox_sandbox"] = Sandbox(settings, store, Grants(store))
    app.before_request(gate.before_api_request)
    app.after_request(gate.after_api_request)
    app.register_blueprint(oauth_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(web_bp)
    app.register_error_handler(errors.ApiError, _api_error)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _method_not_allowed)
    return app


def _api_error(error: errors.ApiError) -> Response:
    return errors.json_response(error.body(), error.status)


def _not_found(error: Any) -> Response | Any:
    if request.path.startswith(("/3/", "/_admin/")):
        return errors.json_response(
            errors.error_body(404, errors.RESOURCE_NOT_FOUND, "Resursen hittades inte."), 404
        )
    return error


def _method_not_allowed(error: Any) -> Response | Any:
    """Vouchers have no PUT or DELETE (docs/fortnox.md): 405 with a Fortnox-style body."""
    if request.path.startswith(("/3/", "/_admin/")):
        response = errors.json_response(
            errors.error_body(405, errors.INVALID_PARAMETER, "Metoden stöds inte."), 405
        )
        response.headers["Allow"] = ", ".join(error.valid_methods or [])
        return response
    return error
