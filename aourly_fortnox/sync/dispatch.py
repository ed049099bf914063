"""Getting a company's push job going: a nudge after the host commits, at most one live job
per company, and the job's own hand-back when it ends.

The database row is the authority on what must happen; Redis only carries the job. A guard key
(``aourly_fortnox:push:<company>``, living a lease, renewed by the live job before each row)
keeps a company to one live push job however many sends, retries and sweeps nudge it; job ids
stay per attempt. Redis being down
at a nudge never breaks the host's action: the tick's sweep finds the row later.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from .. import signals
from ..queries import session
from ..queue import QueueUnavailable, enqueue, new_job_id, redis_or_none
from ..state import current_app_object, state

log = logging.getLogger("aourly_fortnox.dispatch")

PUSH_JOB = "aourly_fortnox.jobs.run_push"
#: Items that newly need the owner in the current transaction: ``signals.sync_failed`` goes
#: after the commit (``leases.notify_attention`` fills it).
ATTENTION = "aourly_fortnox_attention"
#: Companies whose rows the current transaction recorded (``Session.info``).
PENDING_NUDGES = "aourly_fortnox_nudges"

#: Deletes the guard only if it still names this job (a later job may own it by now).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


#: Keeps the guard for another lease while it names this job, or takes it back when Redis
#: lost it (flushed, restarted); 0 when another job holds it now.
_RENEW = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] or not holder then
  redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""


def guard_key(company_id: str) -> str:
    """The Redis key that says a push job of this company is live."""
    return f"aourly_fortnox:push:{company_id}"


def remember(company_id: str) -> None:
    """Nudge the company once the host's transaction commits (a rollback forgets it)."""
    session().info.setdefault(PENDING_NUDGES, set()).add(company_id)


def nudge(company_id: str, delay: float = 0) -> bool:
    """Start the company's push job unless one is live; True when one was queued (or ran
    inline, as tests run with ``AOURLY_FORTNOX_QUEUE_IS_ASYNC = False``)."""
    settings = state().settings
    if not settings.queue_is_async:
        # The caller's session may be mid-commit: run in an app context of its own.
        with current_app_object().app_context():
            enqueue(PUSH_JOB, company_id, None)
        return True
    redis = redis_or_none()
    if redis is None:
        return False
    job_id = new_job_id()
    ttl = int(float(settings.lease_seconds) + delay) + 1
    try:
        if not redis.set(guard_key(company_id), job_id, nx=True, ex=ttl):
            return False  # a live job will see the row (it re-checks before it ends)
        enqueue(PUSH_JOB, company_id, job_id, job_id=job_id, delay=delay)
    except Exception as exc:  # a Redis hiccup: the sweep finds the row later
        if not isinstance(exc, QueueUnavailable):
            log.warning("Could not nudge the push job of company %s (%s)", company_id,
                        type(exc).__name__)
        job_done(company_id, job_id)  # no job carries the guard: free it for the next nudge
        return False
    return True


def renew(company_id: str, job_id: str | None) -> bool:
    """A live job keeps its company's guard for another lease (once per row): otherwise a job
    running longer than a lease loses it, and a sweep or a send starts a second job for the
    same company. False: another job holds the guard now, so this one should stop."""
    if job_id is None or not state().settings.queue_is_async:
        return True
    redis = redis_or_none()
    if redis is None:
        return True
    ttl = int(float(state().settings.lease_seconds)) + 1
    try:
        return bool(redis.eval(_RENEW, 1, guard_key(company_id), job_id, ttl))
    except Exception as exc:  # a Redis hiccup: the rows' leases still fence the work
        log.warning("Could not renew the push guard of company %s (%s)", company_id,
                    type(exc).__name__)
        return True


def job_done(company_id: str, job_id: str | None) -> None:
    """The job ends: free the guard it holds so the next nudge starts a new job."""
    redis = redis_or_none()
    if redis is None or job_id is None:
        return
    try:
        redis.eval(_RELEASE, 1, guard_key(company_id), job_id)
    except Exception as exc:  # the guard then simply expires with its lease
        log.warning("Could not free the push guard of company %s (%s)", company_id,
                    type(exc).__name__)


def _after_commit(db_session: Session) -> None:
    if db_session.in_nested_transaction():
        # SQLAlchemy fires after_commit for a released savepoint too (a host that hands
        # rows over in ``begin_nested``): the rows are not committed yet, so wait for the
        # outermost commit; a job nudged now would not see them (or, inline, would run
        # inside the host's transaction).
        return
    companies = db_session.info.pop(PENDING_NUDGES, None)
    for item in db_session.info.pop(ATTENTION, None) or ():
        try:
            signals.sync_failed.send(current_app_object(), **item)
        except Exception:  # a host receiver's bug never undoes or breaks the sync
            log.exception("A sync_failed receiver failed for company %s", item["company_id"])
    for company_id in sorted(companies or ()):
        nudge(company_id)


def _after_rollback(db_session: Session) -> None:
    db_session.info.pop(PENDING_NUDGES, None)
    db_session.info.pop(ATTENTION, None)


def install(scoped: Any) -> None:
    """Listen on the host's session: a commit that recorded rows nudges their companies."""
    if not event.contains(scoped, "after_commit", _after_commit):
        event.listen(scoped, "after_commit", _after_commit)
        event.listen(scoped, "after_soft_rollback", _after_rollback_soft)


def _after_rollback_soft(db_session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction: forget the nudges
        _after_rollback(db_session)
