"""The reconcile sweep: the database says what must happen, RQ only carries it.

A run whose job is gone from Redis (Redis restarted, the job was dropped) or ended without
finishing the run (a worker killed with its work-horse) would otherwise show "Syncing…" for
ever. The sweep hands such runs to a fresh job. It runs from `flask fortnox reconcile` and from
the periodic tick; a run younger than a lease is left alone (its job may just not have
started yet). A run is handed to the job of its own kind; a kind without a job is failed with
a reason instead of being restarted as something else. Outbox records join the sweep when the
sync engine lands.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from ..models import Connection, ConnectionStatus, SyncRecord, SyncRun, utcnow
from ..queries import session
from ..queue import QueueUnavailable, enqueue, new_job_id, redis_or_none
from ..state import state
from . import dispatch
from .leases import due_filter
from .runs import IMPORT_JOB

#: The job that carries each kind of run (a sync is an import, then the due pushes).
JOB_FOR_KIND = {"import": IMPORT_JOB, "sync": IMPORT_JOB}

log = logging.getLogger("aourly_fortnox.reconcile")

#: RQ job states in which the job will still run (or is running) the run it carries.
LIVE_JOB_STATES = {"queued", "started", "deferred", "scheduled", "created", "ready_to_enqueue"}


def _job_alive(job_id: str | None) -> bool:
    """Whether RQ still holds the job and will run it (or is running it)."""
    if not job_id:
        return False
    redis = redis_or_none()
    if redis is None:
        return False
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        status = Job.fetch(job_id, connection=redis).get_status(refresh=False)
    except NoSuchJobError:
        return False
    return status is not None and str(getattr(status, "value", status)) in LIVE_JOB_STATES


def reconcile_runs() -> int:
    """Re-enqueue every unfinished run whose job is gone. Returns how many."""
    if not state().settings.queue_is_async:
        return 0  # inline jobs finish inside the request that started them
    grace = utcnow() - timedelta(seconds=int(state().settings.lease_seconds))
    db_session = session()
    stuck = [
        run
        for run in db_session.execute(
            select(SyncRun).where(
                SyncRun.state.in_(("queued", "running")), SyncRun.created_at < grace
            )
        ).scalars()
        if not _job_alive(run.job_id)
    ]
    handed = 0
    for run in stuck:
        job = JOB_FOR_KIND.get(run.kind)
        if job is None:
            run.state, run.message, run.finished_at = "failed", "JOB_LOST", utcnow()
            db_session.commit()
            log.warning("Run %s (%s) of company %s lost its job; no job carries that kind",
                        run.id, run.kind, run.company_id)
            continue
        # The id is stored before the job is queued: a job that starts at once must find
        # itself named on the run (a job named otherwise takes itself for a superseded one).
        previous, run.job_id = run.job_id, new_job_id()
        db_session.commit()
        try:
            enqueue(job, run.company_id, run.id, job_id=run.job_id)
        except QueueUnavailable:
            run.job_id = previous
            db_session.commit()
            break  # Redis is down: the next sweep tries again
        run.state = "queued"
        run.message = "JOB_LOST"
        handed += 1
        db_session.commit()
        log.warning("Re-enqueued %s run %s of company %s", run.kind, run.id, run.company_id)
    return handed


def reconcile_records() -> int:
    """Nudge every connected company with rows that are due and not held by a live lease
    (their job is gone, or its lease ran out). The push guard keeps it to one job per
    company, so a sweep never floods the queue. Returns how many companies got a new job."""
    if not state().settings.queue_is_async:
        return 0
    now = utcnow()
    companies = session().execute(
        select(Connection.company_id, Connection.database_number)
        .where(Connection.status == ConnectionStatus.CONNECTED,
               Connection.database_number.is_not(None))
    ).all()
    session().commit()
    nudged = 0
    for company_id, database_number in companies:
        if database_number is None:
            continue
        due = session().execute(
            select(SyncRecord.id).where(*due_filter(company_id, database_number, now)).limit(1)
        ).first()
        session().commit()
        if due is not None and dispatch.nudge(company_id):
            nudged += 1
            log.info("Nudged the push job of company %s (due rows without a live job)",
                     company_id)
    return nudged
