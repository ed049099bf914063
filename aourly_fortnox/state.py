"""The plugin's per-app state (``app.extensions["aourly_fortnox"]``) and how to reach it.

Every layer reads settings, the database and the cipher through :func:`state`; the imports
below are for type checking only, so this module sits at the bottom of the import graph and
closes no cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy
    from redis import Redis

    from .config import Settings
    from .connection.crypto import TokenCipher
    from .extension import FortnoxIntegration
    from .host import HostAdapter

log = logging.getLogger("aourly_fortnox")

EXTENSION_KEY = "aourly_fortnox"


@dataclass
class MappingKeyInfo:
    """A mapping key the host adds (e.g. ``performer_costs``) with its BAS default."""

    key: str
    label: str | Callable[[], str]  # a callable is asked per request (the host's gettext)
    default_account: int | None = None

    def text(self) -> str:
        """The label in the owner's language; the key itself if the host's callable fails."""
        if not callable(self.label):
            return self.label
        try:
            return self.label()
        except Exception:  # a host callable that needs a request, called from a worker
            log.warning("The label of mapping key %s could not be computed", self.key,
                        exc_info=True)
            return self.key


@dataclass
class FortnoxState:
    """Everything the plugin keeps per Flask app, so two apps in one process never mix."""

    ext: FortnoxIntegration
    settings: Settings
    db: SQLAlchemy
    cipher: TokenCipher
    adapter: HostAdapter | None = None
    redis: Redis | None = None
    cache: dict[str, Any] = field(default_factory=dict)


def current_app_object() -> Flask:
    """The real app behind ``current_app``: signals are sent with it as the sender."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def state(app: Flask | None = None) -> FortnoxState:
    """The plugin's state for ``app`` (default: the current app), or a clear error."""
    target = app or current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        found: FortnoxState = target.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError("aourly_fortnox is not initialised on this app (init_app).") from None
    return found
