"""Blinker signals the host can subscribe to (e.g. e-mail the owner when a connection expires).

Each is sent with the Flask app as sender and ``company_id=`` (plus the keywords noted)::

    from aourly_fortnox.signals import connection_expired

    @connection_expired.connect_via(app)
    def tell_owner(app, company_id, reason): ...
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: ``company_id``, ``database_number``, ``fortnox_company_name``
connected = _signals.signal("aourly-fortnox-connected")
#: ``company_id``
disconnected = _signals.signal("aourly-fortnox-disconnected")
#: ``company_id``, ``reason``
connection_expired = _signals.signal("aourly-fortnox-expired")
#: ``company_id``, ``kind``, ``done``, ``failed``
sync_finished = _signals.signal("aourly-fortnox-sync-finished")
#: ``company_id``, ``record_id``, ``object_type``, ``object_id``, ``label``, ``code``,
#: ``params``: an item newly needs the owner (once per item, never per automatic retry;
#: again only after it reached Fortnox and failed anew). Sent after the commit.
sync_failed = _signals.signal("aourly-fortnox-sync-failed")
