"""Runs: an import or sync of a company, one row each, carried by one job at a time.

The row is the truth (queued, running, finished, failed with a reason code); the job is named
by its dotted path so this layer never imports the RQ entry points.
"""

from __future__ import annotations

import enum

from ..models import ConnectionStatus, SyncRun, utcnow
from ..queries import active_run, get_connection, session
from ..queue import QueueUnavailable, enqueue, new_job_id
from ..state import state

IMPORT_JOB = "aourly_fortnox.jobs.run_import"


class StartResult(enum.StrEnum):
    """What became of an owner's request to start a run (the web layer words it)."""

    STARTED = "started"
    NOT_CONNECTED = "not_connected"
    QUEUE_UNAVAILABLE = "queue_unavailable"


def enqueue_import(company_id: str, kind: str = "sync") -> SyncRun:
    """Queue a run (one row): a ``sync`` (Connect, a switch, Sync now, the schedule) imports
    years, charts, predefined accounts and series, then sends every due item; an ``import``
    (Refresh chart) only imports.

    Raises :class:`QueueUnavailable` after recording the run as failed with that reason."""
    db_session = session()
    run = active_run(company_id)
    if run is not None and run.kind in ("import", "sync"):
        if run.state == "queued" and run.message == "RETRYING" and kind == "sync":
            try_now(run)  # the owner's "Try now": the run waiting for its next try goes now
        return run  # one import at a time is enough
    run = SyncRun(company_id=company_id, kind=kind, state="queued")
    db_session.add(run)
    db_session.commit()
    run_id = run.id
    try:
        job_id = enqueue(IMPORT_JOB, company_id, run_id)
    except QueueUnavailable as exc:
        run = db_session.get(SyncRun, run_id) or run
        run.state, run.message, run.finished_at = "failed", exc.code, utcnow()
        db_session.commit()
        raise
    if job_id:
        run = db_session.get(SyncRun, run_id) or run
        run.job_id = job_id
        db_session.commit()
    return db_session.get(SyncRun, run_id) or run


def try_now(run: SyncRun) -> None:
    """Hand a run waiting for its next try to a job that starts now. The job id is stored
    before the job is queued, so the new job never takes itself for the superseded one; the
    delayed job, when it comes, finds another job named on the run and does nothing."""
    if not state().settings.queue_is_async:
        return
    job_id = new_job_id()
    run.job_id = job_id
    session().commit()
    enqueue(IMPORT_JOB, run.company_id, run.id, job_id=job_id)


def start_run(company_id: str, kind: str) -> StartResult:
    """Start an import (``import``: Refresh chart) or a sync (``sync``: Sync now) if the
    company is connected."""
    conn = get_connection(company_id)
    if conn is None or conn.status != ConnectionStatus.CONNECTED:
        return StartResult.NOT_CONNECTED
    try:
        enqueue_import(company_id, kind=kind)
    except QueueUnavailable:
        return StartResult.QUEUE_UNAVAILABLE
    return StartResult.STARTED
