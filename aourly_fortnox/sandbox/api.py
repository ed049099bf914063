"""The ``/3/`` REST API: one blueprint (``api_common``), its routes in ``api_books`` (the
ledger) and ``api_sales`` (customers and invoices), registered by importing them here."""

from __future__ import annotations

from . import api_books, api_sales  # noqa: F401  (registers the routes on bp)
from .api_common import bp

__all__ = ["bp"]
