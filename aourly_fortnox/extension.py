"""``FortnoxIntegration``: the Flask extension object a host creates and ``init_app``s.

The top of the import graph: the only module that imports the web layer and the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask

from .cli import fortnox_cli
from .config import ConfigError, check_queue, read_settings
from .connection.crypto import TokenCipher
from .host import HostAdapter
from .models import PulledVoucher
from .queries import pulled_vouchers
from .state import EXTENSION_KEY, FortnoxState, MappingKeyInfo
from .sync import dispatch, outbox
from .sync.forget import forget_company
from .web.views import bp

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy
    from redis import Redis

log = logging.getLogger("aourly_fortnox")

CompanyLoader = Callable[[], "str | int | None"]
UserCompanyCheck = Callable[[Any, str], bool]


class FortnoxIntegration:
    """The plugin. Create once, then ``init_app(app, db=db)`` (factory pattern).

    Host hooks are decorators on this object, registered after ``init_app``::

        fortnox = FortnoxIntegration()
        fortnox.init_app(app, db=db, adapter=MyAdapter())

        @fortnox.current_company_loader
        def current_company():            # the company the user works in now, or None
            return session.get("company_id")

        @fortnox.owner_check
        def is_owner(user, company_id):   # True only for that company's owners
            return user.is_owner_of(company_id)

    Without an owner check every plugin route answers 403 (fail closed).
    """

    def __init__(
        self,
        app: Flask | None = None,
        db: SQLAlchemy | None = None,
        adapter: HostAdapter | None = None,
    ) -> None:
        self._company_loader: CompanyLoader | None = None
        self._owner_check: UserCompanyCheck | None = None
        self._member_check: UserCompanyCheck | None = None
        self._locale_loader: Callable[[], str | None] | None = None
        self._object_url: Callable[[str, str], str | None] | None = None
        self._host_mapping_keys: dict[str, MappingKeyInfo] = {}
        self._default_adapter = adapter
        if app is not None:
            if db is None:
                raise ConfigError("FortnoxIntegration(app, db=...) needs the host's SQLAlchemy.")
            self.init_app(app, db=db, adapter=adapter)

    # -- set-up ---------------------------------------------------------------------------
    def init_app(
        self,
        app: Flask,
        db: SQLAlchemy,
        adapter: HostAdapter | None = None,
        redis: Redis | None = None,
    ) -> None:
        """Read settings, register the blueprint and CLI, keep state in ``app.extensions``.

        ``redis``: an existing connection (e.g. a fakeredis one for an embedded demo queue);
        otherwise ``AOURLY_FORTNOX_REDIS_URL`` is used when a queue is first needed. One of
        them is required while ``AOURLY_FORTNOX_QUEUE_IS_ASYNC`` is on (a ``ConfigError`` here;
        only a warning in an app with ``TESTING`` set).
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("aourly_fortnox is already registered on this app.")
        settings = read_settings(app.config)
        cipher = TokenCipher(settings.token_keys)
        adapter = adapter or self._default_adapter
        if adapter is not None and not isinstance(adapter, HostAdapter):
            raise ConfigError(
                "The adapter passed to init_app does not implement aourly_fortnox.HostAdapter."
            )
        check_queue(settings, redis is not None, app.config)
        app.extensions[EXTENSION_KEY] = FortnoxState(
            ext=self, settings=settings, db=db, cipher=cipher, adapter=adapter, redis=redis
        )
        app.register_blueprint(bp, url_prefix=settings.url_prefix)
        dispatch.install(db.session)
        app.cli.add_command(fortnox_cli)

    # -- host hooks -----------------------------------------------------------------------
    def current_company_loader(self, func: CompanyLoader) -> CompanyLoader:
        """Register the hook that returns the current company's id (or None)."""
        self._company_loader = func
        return func

    def owner_check(self, func: UserCompanyCheck) -> UserCompanyCheck:
        """Register ``(user, company_id) -> bool``: is this user an owner of this company."""
        self._owner_check = func
        return func

    def member_check(self, func: UserCompanyCheck) -> UserCompanyCheck:
        """Optional ``(user, company_id) -> bool``: a non-member gets 404 instead of 403."""
        self._member_check = func
        return func

    def locale_loader(self, func: Callable[[], str | None]) -> Callable[[], str | None]:
        """Optional: the owner's language for the plugin's pages ("sv" or "en")."""
        self._locale_loader = func
        return func

    def object_url(
        self, func: Callable[[str, str], str | None]
    ) -> Callable[[str, str], str | None]:
        """Optional ``(object_type, object_id) -> str | None``: the host's page of an item
        (``invoice``, ``customer``, ``voucher``), linked from the sync log."""
        self._object_url = func
        return func

    def object_url_for(self, object_type: str, object_id: str) -> str | None:
        """The host's page of an item, or None (no hook, no page, or the hook failed)."""
        if self._object_url is None:
            return None
        try:
            return self._object_url(object_type, object_id)
        except Exception:  # a host hook's bug never breaks the sync log
            log.exception("The object_url hook failed for %s %s", object_type, object_id)
            return None

    def locale(self) -> str | None:
        """The language the host's hook chose for this request, if it has one."""
        return self._locale_loader() if self._locale_loader else None

    def register_mapping_key(
        self, key: str, label: str | Callable[[], str], default_account: int | None = None
    ) -> None:
        """Add a host mapping key (shown on the mapping page, used by host voucher rows).

        ``label`` may be a callable (e.g. ``lambda: gettext("Performer costs")``) so the page
        shows it in the owner's language."""
        if not key.isidentifier():
            raise ValueError(f"mapping key {key!r}: use letters, digits and underscores")
        self._host_mapping_keys[key] = MappingKeyInfo(key, label, default_account)

    @property
    def host_mapping_keys(self) -> dict[str, MappingKeyInfo]:
        """The host's own mapping keys (a copy: register through ``register_mapping_key``)."""
        return dict(self._host_mapping_keys)

    def missing_hooks(self) -> list[str]:
        """Names of required hooks not registered yet (reported by routes and ``status``)."""
        missing = []
        if self._company_loader is None:
            missing.append("current_company_loader")
        if self._owner_check is None:
            missing.append("owner_check")
        return missing

    def current_company_id(self) -> str | None:
        """The host's current company as a string id (None: no company chosen)."""
        if self._company_loader is None:
            return None
        value = self._company_loader()
        return None if value is None else str(value)

    def is_owner(self, user: Any, company_id: str) -> bool:
        """The host's owner check; False when the hook is missing (fail closed)."""
        return bool(self._owner_check and self._owner_check(user, company_id))

    def is_member(self, user: Any, company_id: str) -> bool:
        """The host's membership check; without the hook every owner check decides alone."""
        if self._member_check is None:
            return True
        return bool(self._member_check(user, company_id))

    # -- host API (Python) ----------------------------------------------------------------
    # The three sync_* calls add an outbox row to the host's session: commit it with the
    # change that caused it (a transactional outbox), never before.
    def sync_invoice(self, company_id: str | int, invoice_id: str | int) -> None:
        """Hand a sent invoice to the plugin (its customer goes first). Commit afterwards."""
        outbox.record_invoice(str(company_id), str(invoice_id))

    def sync_customer(self, company_id: str | int, customer_id: str | int) -> None:
        """Push a customer (created or edited) to Fortnox. Commit afterwards."""
        outbox.record_push(str(company_id), "customer", str(customer_id))

    def sync_voucher(self, company_id: str | int, voucher_id: str | int) -> None:
        """Push a host voucher (e.g. a payout) to Fortnox. Commit afterwards."""
        outbox.record_push(str(company_id), "voucher", str(voucher_id))

    def sync_states(
        self, company_id: str | int, object_type: str, object_ids: Iterable[str | int]
    ) -> dict[str, str]:
        """``{object_id: state}`` (pending, held, synced, failed, needs_attention) for badges."""
        return outbox.sync_states(str(company_id), object_type, [str(i) for i in object_ids])

    def backfill(self, company_id: str | int) -> int:
        """Hand every sent invoice (and its customer) and every host voucher to the plugin."""
        return outbox.backfill(str(company_id))

    def vouchers(
        self, company_id: str | int, financial_year: int | None = None,
        series: str | None = None, limit: int | None = None, offset: int = 0,
    ) -> list[PulledVoucher]:
        """Vouchers pulled from Fortnox for this company, newest first, with their rows
        (``rows``: account, its name, debit and credit as decimal strings, text).
        ``financial_year`` is Fortnox's year Id; ``sync_record_id`` is set on the vouchers
        Aourly sent itself."""
        return pulled_vouchers(str(company_id), financial_year, series, limit, offset)

    def forget(self, company_id: str | int) -> bool:
        """The company is gone from the host: revoke its Fortnox grant and delete every row the
        plugin keeps for it (as ``flask fortnox forget``). A reused id then starts clean.

        Commits the plugin's deletions; call it after the host committed its own. True if
        anything was stored for the company."""
        return forget_company(str(company_id))
