"""A faithful local Fortnox for development, tests and benchmarks.

Run it with ``python -m aourly_fortnox.sandbox`` (see ``__main__``), or inside tests with
:func:`aourly_fortnox.sandbox.testing.running_sandbox`. It speaks Fortnox's OAuth
(``/oauth-v1/auth|token|revoke``) and the REST resources the plugin uses under ``/3/``, with
Fortnox's envelopes, error bodies, numbers-as-strings, pagination, the 25 requests / 5 s limit
and injectable faults; ``/_admin/`` (see :mod:`.admin`) lets tests act as a person in Fortnox.

Modules: ``app`` (create_app), ``store`` (SQLite state), ``grants`` + ``oauth`` (OAuth),
``gate`` + ``faults`` (auth, rate limit, faults, stats per request), ``api`` (the ``/3/``
blueprint; routes in ``api_sales`` and ``api_books``), ``server`` (threaded WSGI server),
``customers``, ``invoices`` (+ ``invoice_math``, ``invoice_shape``), ``vouchers``, ``ledger``
(years, accounts, series, locked period), ``listing`` (filters, pagination), ``seed`` + ``bas``
(seed data), ``field_limits`` + ``countries`` (published field lengths, ISO country codes),
``admin``, ``web`` (read-only view), ``errors`` (codes, incl. the sandbox's own choices),
``testing``. docs/sandbox.md lists where the sandbox chose because Fortnox's behaviour is
unknown.
"""

from __future__ import annotations

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
