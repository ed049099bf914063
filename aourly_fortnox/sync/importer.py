"""Fortnox -> Aourly: financial years, each year's chart of accounts, predefined accounts,
voucher series, then the vouchers themselves (``pull_vouchers``); a sync also sends every due
item. Knows the client and the database; nothing about HTTP requests to us.

Each step reads everything from Fortnox first, then writes and commits: no transaction is
open while we wait on Fortnox (or on a token refresh that must commit on its own).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select

from .. import signals
from ..connection.clients import client_for, read_company
from ..fortnox.client import FortnoxClient
from ..fortnox.errors import AuthorizationExpired, FortnoxError, RateLimited, TransientError
from ..mapping import prefill_suggestions
from ..models import (
    Account,
    Connection,
    ConnectionStatus,
    FinancialYear,
    PredefinedAccount,
    RecordState,
    SyncRecord,
    SyncRun,
    VoucherSeries,
    utcnow,
)
from ..queries import get_connection, session
from ..queue import QueueUnavailable, enqueue
from ..state import current_app_object, state
from . import dispatch, leases, push
from .leases import due_filter
from .pull_vouchers import pull_vouchers
from .retries import backoff_seconds
from .runs import IMPORT_JOB

log = logging.getLogger("aourly_fortnox.importer")


#: Run kinds that are syncs: they push every due item and may move "Last successful sync".
#: An ``import`` (Connect, Refresh chart) reads from Fortnox only and never moves it.
SYNC_KINDS = ("sync", "retry")


def run_import(company_id: str, run_id: int) -> None:
    """Import company information, financial years, each year's chart, predefined accounts,
    voucher series and the locked period; then suggest mappings for keys nobody has set.

    A sync (Sync now, the schedule) then sends every due item itself, counting them on the
    run ("Sending 3 of 12"), and pulls the vouchers new in Fortnox. "Last successful sync"
    moves only when every request of the sync succeeded; items that need the owner because of
    their own data do not hold it back. An import (Refresh chart) nudges the pushes, then
    pulls the vouchers."""
    db_session = session()
    run = db_session.get(SyncRun, run_id)
    conn = get_connection(company_id)
    if run is None or run.state not in ("queued", "running") or _superseded(run):
        return  # finished, or a delayed retry whose run "Try now" already took over
    if conn is None or conn.status != ConnectionStatus.CONNECTED or conn.database_number is None:
        _finish(run, "failed", "NOT_CONNECTED")
        return
    run.state, run.started_at = "running", utcnow()
    run.total = run.done = run.failed = 0
    db_number = conn.database_number
    db_session.commit()
    try:
        client = client_for(company_id)
        db_session.commit()  # end the read before the first request
        company = read_company(client)
        if company.database_number != db_number:
            # The token now answers for another company: never import it into this one.
            _finish(run, "failed", "OTHER_COMPANY")
            return
        conn.fortnox_company_name = company.name
        conn.organisation_number = company.organisation_number
        db_session.commit()
        years = import_financial_years(client, company_id, db_number)
        db_session.commit()
        for year in years:
            import_accounts(client, company_id, db_number, year)
            db_session.commit()
        import_predefined_accounts(client, company_id, db_number)
        db_session.commit()
        import_voucher_series(client, company_id, db_number)
        db_session.commit()
        locked_through = import_locked_period(client)
        prefill_suggestions(company_id)
        conn = db_session.execute(
            select(Connection).where(Connection.company_id == company_id)
        ).scalar_one()
        conn.locked_through = locked_through
        db_session.commit()
        if run.kind not in SYNC_KINDS:
            # Fresh pre-check data: due pushes go now (a reconnect, Refresh chart), before
            # the vouchers are read: a first pull of a large company takes one GET a voucher.
            dispatch.nudge(company_id)
            _pull(client, company_id, db_number)
    except AuthorizationExpired:
        db_session.rollback()
        _finish(db_session.get(SyncRun, run_id), "failed", "AUTH_EXPIRED")
        return
    except (TransientError, RateLimited) as exc:
        db_session.rollback()
        log.warning("Import for company %s failed for now: %s", company_id, exc.reason)
        if not _retry_later(db_session.get(SyncRun, run_id)):
            _finish(db_session.get(SyncRun, run_id), "failed", "FORTNOX_TEMPORARY",
                    {"next_at": _next_scheduled(db_session.get(SyncRun, run_id))})
        return
    except FortnoxError as exc:
        db_session.rollback()
        log.warning("Import for company %s failed: %s", company_id, exc.reason)
        _finish(db_session.get(SyncRun, run_id), "failed", "FORTNOX_FAILED", {"why": exc.reason})
        return
    except Exception:
        # A bug, not Fortnox: the run must not say "Syncing" for ever (nor be re-enqueued
        # in a loop by the sweep). RQ records the traceback too.
        db_session.rollback()
        log.exception("Import for company %s failed unexpectedly", company_id)
        _finish(db_session.get(SyncRun, run_id), "failed", "UNEXPECTED")
        raise
    run = db_session.get(SyncRun, run_id)
    if run is None:
        return
    if run.kind not in SYNC_KINDS:
        _finish(run, "finished", "IMPORT_DONE", {"years": len(years)})
        return
    send_due_items(company_id, db_number, run, client)


def _pull(client: FortnoxClient, company_id: str, db_number: int) -> None:
    """The vouchers new in Fortnox since the last pull (at most one list request a year when
    nothing changed)."""
    pulled = pull_vouchers(client, company_id, db_number)
    log.info("Vouchers pulled for company %s: %s new, %s of ours", company_id, pulled.new,
             pulled.ours)


def send_due_items(
    company_id: str, db_number: int, run: SyncRun, client: FortnoxClient | None = None
) -> None:
    """The sync's second half: every due item goes now, counted on the run; then the vouchers
    new in Fortnox are pulled (after the pushes: our own vouchers come back linked, and a long
    first pull never holds the pushes back); then the run says whether every request
    succeeded."""
    db_session = session()
    run_id = run.id
    run.total = db_session.execute(
        select(func.count(SyncRecord.id)).where(*due_filter(company_id, db_number, utcnow()))
    ).scalar_one()
    run.message = "SENDING"
    db_session.commit()
    outcomes = {"failed": 0, "attention": 0}

    def progress(outcome: str) -> None:
        current = db_session.get(SyncRun, run_id)
        if current is None:
            return
        current.done = min(current.total, current.done + 1)
        if outcome in outcomes:
            outcomes[outcome] += 1
            current.failed += 1
        db_session.commit()

    try:
        push.push_due(company_id, job_id=None, progress=progress)
    finally:
        db_session.rollback()
    conn = get_connection(company_id)
    if client is not None and conn is not None and conn.status == ConnectionStatus.CONNECTED:
        try:
            _pull(client, company_id, db_number)
        except AuthorizationExpired:
            db_session.rollback()  # the connection says Expired: reported below
        except FortnoxError as exc:
            db_session.rollback()
            log.warning("Voucher pull for company %s failed: %s", company_id, exc.reason)
            outcomes["failed"] += 1
    ended = db_session.get(SyncRun, run_id)
    if ended is None:
        return
    run = ended
    conn = get_connection(company_id)
    if conn is None or conn.status != ConnectionStatus.CONNECTED:
        # Fortnox refused the authorization midway (or the owner disconnected).
        _finish(run, "failed", "AUTH_EXPIRED" if conn is not None
                and conn.status == ConnectionStatus.EXPIRED else "NOT_CONNECTED")
        return
    if outcomes["failed"]:
        # A request failed (Fortnox down, 5xx, timeouts): the items retry by themselves.
        next_at = db_session.execute(
            select(func.min(SyncRecord.next_attempt_at)).where(
                SyncRecord.company_id == company_id,
                SyncRecord.state == RecordState.FAILED,
            )
        ).scalar()
        _finish(run, "failed", "FORTNOX_TEMPORARY",
                {"next_at": next_at.isoformat() if next_at else _next_scheduled(run),
                 "failed": outcomes["failed"]})
        return
    sent = run.done - outcomes["attention"]
    waiting = db_session.execute(
        select(func.count(SyncRecord.id)).where(
            SyncRecord.company_id == company_id, SyncRecord.database_number == db_number,
            SyncRecord.state == RecordState.PENDING,
            # Due now: not an invoice waiting for its customer (the owner's, or later).
            or_(SyncRecord.next_attempt_at.is_(None), SyncRecord.next_attempt_at <= utcnow()))
    ).scalar_one()
    if waiting:
        # The company's request budget ran out (our limiter's window, or Fortnox's 429) or
        # another push job has the company: no request failed, but items are still on their
        # way. The run says so, and "Last successful sync" waits until nothing does.
        _finish(run, "finished", "SYNC_WAITING",
                {"sent": sent, "attention": outcomes["attention"], "waiting": waiting})
    else:
        conn.last_sync_at = utcnow()
        _finish(run, "finished", "SYNC_DONE",
                {"sent": sent, "attention": outcomes["attention"]})
    if state().settings.queue_is_async and leases.is_due(company_id, db_number):
        dispatch.nudge(company_id)  # the limiter paused us: the push job carries on


def _superseded(run: SyncRun) -> bool:
    """A delayed retry job whose run was handed to a newer job ("Try now", the sweep)."""
    if not state().settings.queue_is_async or not run.job_id:
        return False
    from rq import get_current_job

    job = get_current_job()
    return job is not None and job.id != run.job_id


def _next_scheduled(run: SyncRun | None) -> str | None:
    """When the schedule tries again by itself (the card's "Next try")."""
    if run is None:
        return None
    interval = timedelta(seconds=int(state().settings.scheduled_sync_interval))
    return ((run.created_at or utcnow()) + interval).isoformat()


def _retry_later(run: SyncRun | None) -> bool:
    """A transient failure (network, 5xx, 429): the run goes again by itself after a backoff,
    like a pushed item, until the attempts run out. False when it should fail instead."""
    settings = state().settings
    if run is None or not settings.queue_is_async:
        return False  # inline (tests, scripts): the caller sees the failure at once
    attempts = int((run.message_params or {}).get("attempts", 0)) + 1
    if attempts >= int(settings.max_attempts):
        return False
    delay = backoff_seconds(attempts, float(settings.backoff_base), float(settings.backoff_cap))
    now = utcnow()
    run.state, run.message = "queued", "RETRYING"
    run.message_params = {"attempts": attempts, "failed_at": now.isoformat(),
                          "next_at": (now + timedelta(seconds=delay)).isoformat()}
    session().commit()
    try:
        run.job_id = enqueue(IMPORT_JOB, run.company_id, run.id, delay=delay)
    except QueueUnavailable:
        return False
    session().commit()
    return True


def _finish(
    run: SyncRun | None, run_state: str, code: str, params: dict[str, Any] | None = None
) -> None:
    """End the run with a reason code (rendered in the owner's language by the web layer)."""
    if run is None:
        return
    run.state = run_state
    run.message = code
    run.message_params = params
    run.finished_at = utcnow()
    session().commit()
    signals.sync_finished.send(
        current_app_object(), company_id=run.company_id, kind=run.kind, done=run.done,
        failed=run.failed or (1 if run_state == "failed" else 0),
    )


def _date(value: object) -> date:
    return date.fromisoformat(str(value))


def import_financial_years(client: FortnoxClient, company_id: str, db_number: int) -> list[int]:
    """Upsert every financial year; returns their Fortnox ids."""
    items = client.financial_years()
    db_session = session()
    existing = {
        y.fortnox_id: y
        for y in db_session.execute(
            select(FinancialYear).where(
                FinancialYear.company_id == company_id,
                FinancialYear.database_number == db_number,
            )
        ).scalars()
    }
    ids = []
    for item in items:
        fortnox_id = int(item["Id"])
        year = existing.get(fortnox_id) or FinancialYear(
            company_id=company_id, database_number=db_number, fortnox_id=fortnox_id
        )
        year.from_date = _date(item["FromDate"])
        year.to_date = _date(item["ToDate"])
        year.account_chart_type = item.get("AccountChartType")
        year.accounting_method = item.get("AccountingMethod")
        year.imported_at = utcnow()
        db_session.add(year)
        ids.append(fortnox_id)
    db_session.flush()
    return ids


def import_accounts(client: FortnoxClient, company_id: str, db_number: int, year: int) -> int:
    """Replace one year's chart with what Fortnox has now; returns the account count."""
    items = client.accounts(year)
    db_session = session()
    existing = {
        a.number: a
        for a in db_session.execute(
            select(Account).where(
                Account.company_id == company_id,
                Account.database_number == db_number,
                Account.financial_year == year,
            )
        ).scalars()
    }
    seen = set()
    now = utcnow()
    for item in items:
        number = int(item["Number"])
        seen.add(number)
        account = existing.get(number) or Account(
            company_id=company_id, database_number=db_number, financial_year=year, number=number
        )
        account.description = str(item.get("Description") or "")
        account.active = _truthy(item.get("Active", True))
        account.vat_code = (str(item["VATCode"]) if item.get("VATCode") else None)
        account.imported_at = now
        db_session.add(account)
    gone = set(existing) - seen
    if gone:
        db_session.execute(
            delete(Account).where(
                Account.company_id == company_id,
                Account.database_number == db_number,
                Account.financial_year == year,
                Account.number.in_(gone),
            )
        )
    db_session.flush()
    return len(seen)


def import_predefined_accounts(client: FortnoxClient, company_id: str, db_number: int) -> None:
    """Replace the company's predefined accounts (Fortnox books invoice VAT on these)."""
    items = client.predefined_accounts()
    db_session = session()
    db_session.execute(
        delete(PredefinedAccount).where(
            PredefinedAccount.company_id == company_id,
            PredefinedAccount.database_number == db_number,
        )
    )
    for item in items:
        if item.get("Account") in (None, "", 0, "0"):
            continue
        db_session.add(
            PredefinedAccount(
                company_id=company_id, database_number=db_number,
                name=str(item["Name"]), account=int(item["Account"]),
            )
        )
    db_session.flush()


def import_voucher_series(client: FortnoxClient, company_id: str, db_number: int) -> None:
    """Replace the company's voucher series (a pushed voucher needs a manual one)."""
    items = client.voucher_series()
    db_session = session()
    db_session.execute(
        delete(VoucherSeries).where(
            VoucherSeries.company_id == company_id, VoucherSeries.database_number == db_number
        )
    )
    seen = set()
    for item in items:
        code = str(item["Code"])
        if code in seen:  # the list may repeat a series per year
            continue
        seen.add(code)
        db_session.add(
            VoucherSeries(
                company_id=company_id, database_number=db_number, code=code,
                description=str(item.get("Description") or ""),
                manual=_truthy(item.get("Manual", False)),
            )
        )
    db_session.flush()


def import_locked_period(client: FortnoxClient) -> date | None:
    """The last locked date in Fortnox (``None``: nothing is locked)."""
    end = client.locked_period().get("EndDate")
    return _date(end) if end else None


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)
