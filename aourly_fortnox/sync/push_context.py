"""What one push job shares across rows, and the outcomes a row can end in.

``push`` runs the job; ``push_customer``, ``push_invoice`` and ``push_voucher`` handle one
row each and use what is here, so none imports the job that calls it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..fortnox.client import FortnoxClient
from ..fortnox.errors import RateLimited
from ..host import HostAdapter
from ..mapping import AccountResolver
from ..models import Connection, ConnectionStatus, RecordState, VoucherSeries, utcnow
from ..queries import session
from ..reasons import Problem
from . import leases
from .leases import Claim


class StopPush(Exception):
    """The job must end now and give its rows back (connection gone, limiter full)."""

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("stop")
        self.retry_after = retry_after


class LeaseLost(Exception):
    """Another job holds the row now: write nothing more for it."""


class NeedsOwner(Problem):
    """Fortnox's answer leaves a choice or a fix to the owner (several matching customers, a
    deleted customer, an invoice already booked)."""

    def __init__(self, code: str, candidates: list[dict[str, Any]] | None = None,
                 **params: Any) -> None:
        super().__init__(code, **params)
        self.candidates = candidates


@dataclass
class PushContext:
    """What every row of one job shares: the company, its client, the pre-check data."""

    company_id: str
    database_number: int
    installation: str
    client: FortnoxClient
    adapter: HostAdapter
    lease_seconds: float
    bookkeep: bool
    #: The company's series for our vouchers (chosen on the mapping page).
    voucher_series: str = "A"
    _resolver: AccountResolver | None = field(default=None, repr=False)
    _manual_series: frozenset[str] | None = field(default=None, repr=False)

    @property
    def resolver(self) -> AccountResolver:
        """The mapping and chart, loaded once per job (no query per invoice)."""
        if self._resolver is None:
            self._resolver = AccountResolver(self.company_id)
        return self._resolver

    def series_is_manual(self, code: str) -> bool:
        """Whether ``code`` is an imported manual series (only those take API vouchers),
        from the last import, loaded once per job."""
        if self._manual_series is None:
            self._manual_series = frozenset(session().execute(
                select(VoucherSeries.code).where(
                    VoucherSeries.company_id == self.company_id,
                    VoucherSeries.database_number == self.database_number,
                    VoucherSeries.manual.is_(True),
                )
            ).scalars())
        return code in self._manual_series

    def before_write(self, claim: Claim) -> None:
        """Right before a POST or PUT: still Connected to the same Fortnox company, and the
        row still ours."""
        row = session().execute(
            select(Connection.status, Connection.database_number)
            .where(Connection.company_id == self.company_id)
        ).one_or_none()
        session().commit()
        if row is None or row.status != ConnectionStatus.CONNECTED \
                or row.database_number != self.database_number:
            raise StopPush()
        if not leases.still_ours(claim, self.lease_seconds):
            raise LeaseLost()


def synced(claim: Claim, **values: Any) -> bool:
    """The row reached Fortnox: clear every error; False when the lease was lost."""
    return leases.write(
        claim, state=RecordState.SYNCED, attempts=0, error_code=None, error_params=None,
        error_reason=None, fortnox_code=None, fortnox_message=None, candidates=None,
        next_attempt_at=None, synced_at=utcnow(), **values,
    )


@contextmanager
def posting(claim: Claim, started_before: datetime | None) -> Iterator[None]:
    """Around a create (POST) whose row was marked ``post_started_at`` just before it: when
    our own limiter refuses the request (``RateLimited`` without an HTTP status: nothing was
    sent), the mark goes back to what it was, so the row's next attempt does not search
    Fortnox for a POST that never left (one request more per refusal: bench/push.py)."""
    try:
        yield
    except RateLimited as limited:
        if limited.status is None:
            leases.write(claim, keep_lease=True, post_started_at=started_before)
        raise
