"""Handing host objects to the plugin without letting its trouble break the host's action."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import flash

from .extensions import db
from .i18n import gettext

log = logging.getLogger("example_host")


def notify_plugin(call: Callable[[], Any], what: str) -> bool:
    """Run ``call`` (e.g. ``fortnox.sync_invoice(...)``); on any error log it and warn.

    The host's own change is committed before this runs, so a failure here loses nothing:
    the person sees a warning, and the owner can sync or backfill from Integrations. The
    plugin adds its outbox row to our session; committing it is ours to do.
    """
    try:
        call()
        db.session.commit()
        return True
    except Exception:
        log.exception("Handing %s to the Fortnox plugin failed; the host action stands", what)
        db.session.rollback()
        flash(gettext("Saved, but it could not be handed to Fortnox yet. The company owner "
                      "can sync it from Integrations."), "warning")
        return False
