"""Thin RQ entry points. Each runs inside the worker's app context; business rules live in
the modules they call."""

from __future__ import annotations

import logging

from sqlalchemy import select

from . import signals
from .connection import client_for, read_company
from .errors import AuthorizationExpired, FortnoxError
from .i18n import N_
from .importer import (
    import_accounts,
    import_financial_years,
    import_locked_period,
    import_predefined_accounts,
    import_voucher_series,
)
from .models import Connection, ConnectionStatus, SyncRun, utcnow
from .queries import get_connection, session

log = logging.getLogger("aourly_fortnox.jobs")


def run_import(company_id: str, run_id: int) -> None:
    """Import company information, financial years, each year's chart, predefined accounts
    and voucher series; then suggest mappings for keys nobody has set."""
    from .mapping import prefill_suggestions

    db_session = session()
    run = db_session.get(SyncRun, run_id)
    conn = get_connection(company_id)
    if run is None:
        return
    if conn is None or conn.status != ConnectionStatus.CONNECTED or conn.database_number is None:
        _finish(run, "failed", N_("Fortnox is not connected."))
        return
    run.state, run.started_at = "running", utcnow()
    db_session.commit()
    db_number = conn.database_number
    try:
        client = client_for(company_id)
        company = read_company(client)
        if company.database_number != db_number:
            # The token now answers for another company: never import it into this one.
            _finish(run, "failed", N_("Fortnox answered for a different company; reconnect."))
            return
        conn.fortnox_company_name = company.name
        conn.organisation_number = company.organisation_number
        years = import_financial_years(client, company_id, db_number)
        run.total = len(years) + 3
        db_session.commit()
        for year in years:
            import_accounts(client, company_id, db_number, year)
            run.done += 1
            db_session.commit()
        import_predefined_accounts(client, company_id, db_number)
        db_session.commit()
        import_voucher_series(client, company_id, db_number)
        locked_through = import_locked_period(client)
        run.done += 3
        prefill_suggestions(company_id)
        conn = db_session.execute(
            select(Connection).where(Connection.company_id == company_id)
        ).scalar_one()
        conn.locked_through = locked_through
        conn.last_sync_at = utcnow()
        _finish(run, "finished", f"Imported {len(years)} financial year(s) and their charts.")
    except AuthorizationExpired:
        db_session.rollback()
        _finish(db_session.get(SyncRun, run_id), "failed",
                N_("The Fortnox authorization has expired; reconnect to continue."))
    except FortnoxError as exc:
        db_session.rollback()
        log.warning("Import for company %s failed: %s", company_id, exc.reason)
        _finish(db_session.get(SyncRun, run_id), "failed", f"Import failed: {exc.reason}")
    except Exception:
        # A bug, not Fortnox: the run must not say "Syncing" for ever (nor be re-enqueued
        # in a loop by the sweep). RQ records the traceback too.
        db_session.rollback()
        log.exception("Import for company %s failed unexpectedly", company_id)
        _finish(db_session.get(SyncRun, run_id), "failed",
                N_("The import failed unexpectedly; the details are in the server log."))
        raise


def _finish(run: SyncRun | None, run_state: str, message: str) -> None:
    if run is None:
        return
    run.state = run_state
    run.message = message
    run.finished_at = utcnow()
    session().commit()
    from flask import current_app

    signals.sync_finished.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        company_id=run.company_id, kind=run.kind, done=run.done,
        failed=1 if run_state == "failed" else 0,
    )
