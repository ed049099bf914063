"""Forgetting a company: what a host calls when one of its companies (or its last owner) goes.

One implementation for ``fortnox.forget(company_id)`` and ``flask fortnox forget COMPANY``:
revoke the grant at Fortnox, then delete every row the plugin keeps for the company, so a
host that later reuses the id starts clean instead of inheriting the old connection.
"""

from __future__ import annotations

from sqlalchemy import delete

from .. import models
from ..connection.lifecycle import disconnect
from ..queries import session

#: Every table with rows per company (children before the connection). The summary's notes
#: right after the sync records: deleting the records notes their removal (PostgreSQL,
#: migration 0008), which would fold into the summary at the commit below zero.
COMPANY_TABLES: tuple[type[models.Base], ...] = (
    models.SyncRecord, models.RecordSummaryDelta, models.SyncRun, models.PulledVoucher,
    models.VoucherCursor, models.AccountMapping,
    models.Account, models.FinancialYear, models.PredefinedAccount, models.VoucherSeries,
    models.OAuthState, models.RecordSummary, models.Connection,
)


def forget_company(company_id: str) -> bool:
    """Revoke the company's Fortnox grant and delete all its rows; True if there were any.

    Objects already in Fortnox stay there (they belong to the Fortnox company's books)."""
    disconnect(company_id)
    db_session = session()
    found = 0
    for model in COMPANY_TABLES:
        column = model.__table__.c.company_id
        result = db_session.execute(delete(model).where(column == company_id))
        found += getattr(result, "rowcount", 0) or 0
    db_session.commit()
    return bool(found)
