"""Where work goes: RQ queues on the configured Redis, or inline when the queue is off.

RQ is only the carrier; the database rows say what must happen (DECISIONS.md). Live pushes
and bulk backfills use separate queues so a large backfill never starves a live send.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .config import ConfigError
from .extension import state
from .i18n import gettext as _

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

log = logging.getLogger("aourly_fortnox.queue")


class QueueUnavailable(RuntimeError):
    """Redis did not take the job. The database row stays, so nothing is lost."""


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
    return cached  # type: ignore[no-any-return]


def require_redis() -> Redis:
    redis = redis_or_none()
    if redis is None:
        raise ConfigError(
            "AOURLY_FORTNOX_REDIS_URL is not set: the Fortnox queue, rate limiter and locks "
            "need Redis (or pass redis= to init_app)."
        )
    return redis


def queue(backfill: bool = False) -> Queue:
    from rq import Queue

    settings = state().settings
    name = settings.backfill_queue_name if backfill else settings.queue_name
    return Queue(name, connection=require_redis())


def enqueue(func: Callable[..., Any], *args: Any, backfill: bool = False) -> str | None:
    """Run ``func(*args)`` on a worker; inline when ``AOURLY_FORTNOX_QUEUE_IS_ASYNC`` is off.

    Returns the job id (None inline). Job ids are per attempt: a row stores its current one.
    """
    if not state().settings.queue_is_async:
        func(*args)
        return None
    from redis.exceptions import RedisError

    job_id = f"fortnox-{uuid.uuid4().hex}"
    try:
        queue(backfill).enqueue(func, *args, job_id=job_id)
    except RedisError as exc:
        log.error("Could not queue %s: Redis is not reachable (%s)", func.__name__, exc)
        raise QueueUnavailable(
            _("The job queue (Redis) is not reachable right now. Nothing is lost; try again "
              "in a minute, and ask your administrator if this persists.")
        ) from None
    return job_id
