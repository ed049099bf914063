"""The shared limiter tells the operator what happened: a 429 and its pause, and a Redis
that could not record one (the request itself is never blocked by a log line)."""

from __future__ import annotations

import logging

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from aourly_fortnox.fortnox.ratelimit import RedisRateLimiter


@pytest.mark.redis
def test_a_429_is_logged_with_the_tenant_and_the_pause(
    redis_conn: redis.Redis, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RedisRateLimiter(redis_conn, 10, 5.0, prefix=redis_prefix)
    with caplog.at_level(logging.WARNING, logger="aourly_fortnox.ratelimit"):
        limiter.note_429("client/1001", 1.5)
        limiter.note_429("client/1002")
    assert caplog.messages == ["Fortnox answered 429 for client/1001; pausing 1.5 s",
                               "Fortnox answered 429 for client/1002; pausing 5.0 s"]


def test_redis_down_while_recording_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2,
                       retry=Retry(NoBackoff(), 0))
    limiter = RedisRateLimiter(dead, 5, 1.0)
    with caplog.at_level(logging.WARNING, logger="aourly_fortnox.ratelimit"):
        limiter.note_429("client/1001", 1.0)
        limiter.finished("client/1001", "ticket")
    assert caplog.messages == [
        "could not record the 429 pause for client/1001: Redis unavailable",
        "could not record a finished request for client/1001: Redis unavailable",
    ]
    dead.close()
