"""Process entry points for the rate-limiter tests (importable by spawned children)."""

from __future__ import annotations

import time
from typing import Any


def acquire_many(prefix: str, key: str, limit: int, period: float, count: int,
                 barrier: Any, results: Any) -> None:
    """Acquire ``count`` times once every process is ready; put (start, admit times)."""
    import redis

    from aourly_fortnox.fortnox.ratelimit import RedisRateLimiter
    from tests.services import REDIS_URL

    conn = redis.Redis.from_url(REDIS_URL)
    limiter = RedisRateLimiter(conn, limit=limit, period=period, prefix=prefix)
    barrier.wait()
    started = time.time()
    stamps = []
    for _ in range(count):
        ticket = limiter.acquire(key)
        stamps.append(time.time())
        limiter.finished(key, ticket)
    conn.close()
    results.put((started, stamps))
