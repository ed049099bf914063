"""Where work goes: RQ queues on the configured Redis, or inline when the queue is off.

RQ is only the carrier; the database rows say what must happen (docs/architecture.md). Live
pushes and bulk backfills use separate queues so a large backfill never starves a live send.
Jobs are named by their dotted path, so the layers that queue work never import the RQ entry
points in ``aourly_fortnox.jobs`` (which import them).
"""

from __future__ import annotations

import importlib
import logging
import uuid
from typing import TYPE_CHECKING, Any

from .config import ConfigError
from .state import state

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

log = logging.getLogger("aourly_fortnox.queue")


#: The reason code stored and shown when Redis does not take a job (see docs/fortnox.md).
QUEUE_UNAVAILABLE = "QUEUE_UNAVAILABLE"


class QueueUnavailable(RuntimeError):
    """Redis did not take the job. The database row stays, so nothing is lost."""

    code = QUEUE_UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("The job queue (Redis) is not reachable.")


def redis_or_none() -> Redis | None:
    """The plugin's Redis connection, or None when neither ``redis=`` nor a URL is set."""
    st = state()
    if st.redis is not None:
        return st.redis
    url = st.settings.redis_url
    if not url:
        return None
    cached = st.cache.get("redis")
    if cached is None:
        from redis import Redis

        cached = st.cache["redis"] = Redis.from_url(url)
    return cached


def require_redis() -> Redis:
    """The plugin's Redis connection, or a start-up style error naming the setting."""
    redis = redis_or_none()
    if redis is None:
        raise ConfigError(
            "AOURLY_FORTNOX_REDIS_URL is not set: the Fortnox queue, rate limiter and locks "
            "need Redis (or pass redis= to init_app)."
        )
    return redis


def queue(backfill: bool = False) -> Queue:
    """The live queue, or the backfill queue that round-robins with it on every worker."""
    from rq import Queue

    settings = state().settings
    name = settings.backfill_queue_name if backfill else settings.queue_name
    return Queue(name, connection=require_redis())


def resolve(func_path: str) -> Any:
    """The function behind a dotted job name (``aourly_fortnox.jobs.run_import``)."""
    module, _, name = func_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def enqueue(
    func_path: str, *args: Any, backfill: bool = False, job_id: str | None = None,
    delay: float = 0,
) -> str | None:
    """Run the job ``func_path(*args)`` on a worker (after ``delay`` seconds: RQ's
    scheduler); inline when the queue is off (``delay`` then does not apply).

    Returns the job id (None inline). Job ids are per attempt: a row stores its current one.
    """
    if not state().settings.queue_is_async:
        resolve(func_path)(*args)
        return None
    from datetime import timedelta

    from redis.exceptions import RedisError

    if redis_or_none() is None:
        # Only an app with TESTING set starts like this (init_app refuses it otherwise): the
        # caller records the run as failed with the reason, never a 500.
        log.error("Could not queue %s: AOURLY_FORTNOX_REDIS_URL is not set", func_path)
        raise QueueUnavailable()
    job_id = job_id or new_job_id()
    try:
        if delay > 0:
            queue(backfill).enqueue_in(timedelta(seconds=delay), func_path, *args, job_id=job_id)
        else:
            queue(backfill).enqueue(func_path, *args, job_id=job_id)
    except RedisError as exc:
        log.error("Could not queue %s: Redis is not reachable (%s)", func_path, exc)
        raise QueueUnavailable() from None
    return job_id


def new_job_id() -> str:
    """A job id for one attempt (rows and guards store it)."""
    return f"fortnox-{uuid.uuid4().hex}"
