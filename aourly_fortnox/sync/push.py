"""The push job: a company's due customers, invoices and vouchers go to Fortnox, exactly once.

One job per company at a time (see ``dispatch``). It claims due rows under a lease (see
``leases``), customers first, then invoices, then vouchers, and for each row checks right
before every write that the connection is still Connected and the lease still its own: access
tokens outlive a revoke, so the job stops by our own state, not by waiting for a 401. When the
company's rate-limit window is full the job gives its worker back and comes again later: the
limit is per company, the workers are shared.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..connection.clients import client_for
from ..fortnox.errors import AuthorizationExpired, FortnoxError, RateLimited, TransientError
from ..models import ConnectionStatus, RecordState, SyncRecord, utcnow
from ..queries import get_connection, session
from ..reasons import Problem
from ..state import state
from . import dispatch, leases, push_customer, push_invoice, push_voucher
from .leases import Claim
from .push_context import LeaseLost, NeedsOwner, PushContext, StopPush
from .references import installation_id
from .retries import next_attempt

log = logging.getLogger("aourly_fortnox.push")


def run_push(company_id: str, job_id: str | None = None) -> None:
    """The job: push every due row of the company, then hand the guard back."""
    try:
        push_due(company_id, job_id)
    finally:
        session().rollback()
        if state().settings.queue_is_async:
            dispatch.job_done(company_id, job_id)
            conn = get_connection(company_id)
            if conn is not None and conn.status == ConnectionStatus.CONNECTED \
                    and conn.database_number is not None \
                    and leases.is_due(company_id, conn.database_number):
                dispatch.nudge(company_id)  # rows that became due while we worked


def push_due(
    company_id: str, job_id: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Claim and push due rows until none is left (or the job must stop). ``progress`` hears
    each row's outcome (``push_one``): a sync counts its items with it."""
    settings = state().settings
    adapter = state().adapter
    conn = get_connection(company_id)
    if adapter is None or conn is None or conn.database_number is None:
        return
    if conn.status != ConnectionStatus.CONNECTED:
        return  # Expired: rows wait as pending; Disconnected: new sends are held
    ctx = PushContext(
        company_id=company_id,
        database_number=conn.database_number,
        installation=installation_id(),
        client=client_for(company_id, limiter_max_wait=float(settings.limiter_max_wait)),
        adapter=adapter,
        lease_seconds=float(settings.lease_seconds),
        bookkeep=bool(conn.bookkeep_invoices),
        voucher_series=conn.voucher_series or "A",
    )
    session().commit()
    seen: set[int] = set()
    while True:
        claims = leases.claim_due(company_id, ctx.database_number, int(settings.push_batch),
                                  ctx.lease_seconds, job_id)
        if all(claim.record_id in seen for claim in claims):
            leases.release(claims)  # nothing new this job can settle: a later job will
            return
        seen.update(claim.record_id for claim in claims)
        for index, claim in enumerate(claims):
            if not dispatch.renew(company_id, job_id):
                leases.release(claims[index:])  # another job has the company now
                return
            try:
                outcome = push_one(ctx, claim)
            except StopPush as stop:
                leases.release(claims[index:])
                if stop.retry_after is not None:
                    dispatch.job_done(company_id, job_id)
                    dispatch.nudge(company_id, delay=stop.retry_after)
                return
            if progress is not None:
                progress(outcome)


def push_one(ctx: PushContext, claim: Claim) -> str:
    """One row: push it and store the outcome under the lease; map failures to states.

    Returns the outcome: ``done`` (sent, or waiting for its customer), ``attention`` (the
    item's own data needs the owner), ``failed`` (a request failed: retried by itself, or
    given to the owner at the cap) or ``lost`` (another job holds the row now)."""
    record = session().get(SyncRecord, claim.record_id, populate_existing=True)
    if record is None:
        return "lost"
    attempts = record.attempts or 0
    try:
        if record.object_type == "customer":
            push_customer.push(ctx, claim, record)
        elif record.object_type == "voucher":
            push_voucher.push(ctx, claim, record)
        else:
            push_invoice.push(ctx, claim, record)
    except LeaseLost:
        session().rollback()
        return "lost"
    except NeedsOwner as problem:
        session().rollback()
        needs_owner(claim, problem.code, problem.params, candidates=problem.candidates)
        return "attention"
    except Problem as problem:  # a pre-check: the mapping, or what Fortnox would refuse
        session().rollback()
        needs_owner(claim, problem.code, problem.params)
        return "attention"
    except RateLimited as limited:
        session().rollback()
        # Our own full window or Fortnox's 429: the company's budget is spent, the row is not
        # at fault. It goes back untouched (a 429 counted as an attempt handed rows to the
        # owner after a few bursts) and the job comes again later; the next row now would
        # only meet another 429.
        raise StopPush(retry_after=max(0.5, limited.retry_after or 1.0)) from None
    except TransientError as failure:
        session().rollback()
        retry_later(claim, attempts, failure)
        return "failed"
    except AuthorizationExpired:
        session().rollback()
        raise StopPush() from None  # the connection is Expired now; rows wait as pending
    except FortnoxError as refused:
        session().rollback()
        needs_owner(claim, "FORTNOX_REFUSED", {}, fortnox=refused)
        return "attention"
    return "done"


def needs_owner(
    claim: Claim, code: str, params: dict[str, Any], candidates: list[dict[str, Any]] | None
    = None, fortnox: FortnoxError | None = None,
) -> None:
    """The owner must act (fix the mapping, choose a customer, ...): no automatic retry."""
    leases.write(
        claim,
        state=RecordState.NEEDS_ATTENTION,
        error_code=code,
        error_params={k: v for k, v in params.items()},
        error_reason=None,
        fortnox_code=fortnox.code if fortnox else None,
        fortnox_message=(fortnox.message or fortnox.reason) if fortnox else None,
        candidates=candidates,
        next_attempt_at=None,
    )


def retry_later(claim: Claim, attempts: int, failure: FortnoxError) -> None:
    """A transient failure: try again after a backoff, or give up to the owner at the cap."""
    settings = state().settings
    attempts += 1
    if attempts >= int(settings.max_attempts):
        leases.write(
            claim, state=RecordState.NEEDS_ATTENTION, attempts=attempts,
            error_code="RETRIES_EXHAUSTED", error_params={"attempts": attempts},
            fortnox_code=failure.code, fortnox_message=failure.message or failure.reason,
            next_attempt_at=None,
        )
        return
    leases.write(
        claim, state=RecordState.FAILED, attempts=attempts,
        error_code="RETRYING", error_params={"attempts": attempts},
        fortnox_code=failure.code, fortnox_message=failure.message or failure.reason,
        next_attempt_at=next_attempt(utcnow(), attempts, float(settings.backoff_base),
                                     float(settings.backoff_cap)),
    )
