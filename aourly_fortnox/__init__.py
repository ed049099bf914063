"""aourly-fortnox: connect an Aourly-style Flask host to Fortnox.

Public API (a host imports nothing else): :class:`FortnoxIntegration` (the extension), the
host dataclasses and :class:`HostAdapter` protocol, the signals in
:mod:`aourly_fortnox.signals`, and the operator's helpers below (the plugin's tables and
migrations, settings from the environment, the demo's embedded worker).
"""

from .config import ConfigError, settings_from_environ
from .extension import FortnoxIntegration
from .host import (
    CustomerData,
    HostAdapter,
    InvoiceData,
    InvoiceRowData,
    VoucherData,
    VoucherRowData,
)
from .migrate import VERSION_TABLE, downgrade_database, upgrade_database, versions_dir
from .models import Base
from .worker import EmbeddedWorker, start_embedded_worker

#: The plugin's tables (all named ``fortnox_*``), e.g. to drop them in a demo reset.
metadata = Base.metadata

__all__ = [
    "VERSION_TABLE",
    "ConfigError",
    "CustomerData",
    "EmbeddedWorker",
    "FortnoxIntegration",
    "HostAdapter",
    "InvoiceData",
    "InvoiceRowData",
    "VoucherData",
    "VoucherRowData",
    "downgrade_database",
    "metadata",
    "settings_from_environ",
    "start_embedded_worker",
    "upgrade_database",
    "versions_dir",
]
__version__ = "0.1.0"
