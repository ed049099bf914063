"""aourly-fortnox: connect an Aourly-style Flask host to Fortnox.

Public API: :class:`FortnoxIntegration` (the extension), the host dataclasses and
:class:`HostAdapter` protocol, and the signals in :mod:`aourly_fortnox.signals`.
"""

from .config import ConfigError
from .extension import FortnoxIntegration
from .host import (
    CustomerData,
    HostAdapter,
    InvoiceData,
    InvoiceRowData,
    VoucherData,
    VoucherRowData,
)

__all__ = [
    "ConfigError",
    "CustomerData",
    "FortnoxIntegration",
    "HostAdapter",
    "InvoiceData",
    "InvoiceRowData",
    "VoucherData",
    "VoucherRowData",
]
__version__ = "0.1.0"
