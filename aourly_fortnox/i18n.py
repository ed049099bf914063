"""The plugin's own translations (English source strings, Swedish catalogue), with Babel.

The catalogue is a gettext ``.po`` file in ``translations/``, compiled in memory on first use
(no binary ``.mo`` in the repository). The locale comes from the host: a
``@fortnox.locale_loader`` hook if registered, else Flask-Babel's locale if the host uses it,
else the browser's Accept-Language. Templates call ``fx_("...")`` (not ``_``, which belongs
to the host).
"""

from __future__ import annotations

import io
from functools import cache
from importlib.resources import files
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import current_app, has_app_context, has_request_context, request

LOCALES = ("en", "sv")
DOMAIN = "aourly_fortnox"


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802
    """Mark a singular/plural pair for extraction; ``ngettext`` picks the form where shown."""
    return singular, plural


@cache
def translations(locale: str) -> NullTranslations:
    """A locale's catalogue, compiled from its .po once per process (no .mo is committed)."""
    if locale == "en":
        return NullTranslations()
    po = files("aourly_fortnox").joinpath(f"translations/{locale}/LC_MESSAGES/{DOMAIN}.po")
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


#: Where a request keeps its chosen language (in its WSGI environ, so it lives and dies with
#: the request): a sync log page translates about 540 strings, and choosing the language for
#: each (the host's hook, then Accept-Language) was a third of the page's time.
_LOCALE_KEY = "aourly_fortnox.locale"


def current_locale() -> str:
    """The owner's language for this request ("en" outside a request), chosen once per
    request."""
    if not has_request_context():
        return "en"
    environ = request.environ
    chosen_before = environ.get(_LOCALE_KEY)
    if chosen_before is None:
        chosen_before = environ[_LOCALE_KEY] = _choose_locale()
    return str(chosen_before)


def _choose_locale() -> str:
    """The host's hook, else Flask-Babel's locale, else the browser's Accept-Language."""
    ext = current_app.extensions["aourly_fortnox"].ext
    chosen = ext.locale()
    if chosen is None and "babel" in current_app.extensions:
        try:
            from flask_babel import get_locale

            chosen = str(get_locale() or "")
        except ImportError:  # pragma: no cover - the host registered Babel some other way
            chosen = None
    if chosen is None:
        chosen = request.accept_languages.best_match(LOCALES)
    language = (chosen or "en").split("_")[0].split("-")[0].lower()
    return language if language in LOCALES else "en"


PRODUCT = "%(product)s"


def product_name() -> str:
    """The host's product name (``AOURLY_FORTNOX_PRODUCT_NAME``) for ``%(product)s``."""
    if has_app_context():
        st = current_app.extensions.get("aourly_fortnox")
        if st is not None:
            return str(st.settings.product_name)
    return "Aourly"


def gettext(message: str, **values: Any) -> str:
    """Translate ``message`` for the current owner, then fill ``%(name)s`` placeholders
    (``%(product)s`` is the host's product name unless the caller gives one)."""
    text = translations(current_locale()).gettext(message)
    if PRODUCT in text:
        values = {"product": product_name(), **values}
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    """The singular or plural form for ``n`` in the owner's language; ``%(num)s`` is ``n``."""
    text = translations(current_locale()).ngettext(singular, plural, n)
    return text % {"num": n, "product": product_name(), **values}


#: Words stored in the database and shown translated (object types, run kinds and states).
STORED_WORDS = (
    N_("Invoice"), N_("Customer"), N_("Voucher"),
    N_("Import"), N_("Sync"), N_("Backfill"), N_("Retry"),
    N_("queued"), N_("running"), N_("finished"), N_("failed"),
)
