"""Handing host objects to the plugin without letting its trouble break the host's action."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import flash

from .extensions import db
from .i18n import gettext

log = logging.getLogger("example_host")


def commit_with_handover(call: Callable[[], Any], what: str) -> bool:
    """Commit the host's pending change and the plugin's outbox row together, in one commit.

    ``call`` (e.g. ``fortnox.sync_invoice(...)``) adds the plugin's outbox row to our
    session; it runs in a savepoint after the host's change is flushed. If it raises, only
    the savepoint is rolled back: the host's change is still committed, the error is logged
    and the person is warned (the company owner can sync or backfill from Integrations).
    Either way there is exactly one commit, so a crash can never keep the change and lose the
    intent to send it. Returns whether the plugin took it.
    """
    # The host's own change first, outside the savepoint: its errors are its own to raise,
    # never reported as the plugin's.
    db.session.flush()
    handed = True
    try:
        with db.session.begin_nested():
            call()
    except Exception:
        log.exception("Handing %s to the Fortnox plugin failed; the host action stands", what)
        handed = False
    db.session.commit()
    if not handed:
        flash(gettext("Saved, but it could not be handed to Fortnox yet. The company owner "
                      "can sync it from Integrations."), "warning")
    return handed
