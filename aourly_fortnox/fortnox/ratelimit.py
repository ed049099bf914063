"""Client-side rate limiting per Fortnox tenant, shared by every worker process.

Fortnox allows 25 requests per sliding 5-second window per (client id, tenant) and answers
429 beyond it (docs/fortnox.md, "Rate limit"). We default to 24/5 (docs/fortnox.md, "Rate limit").

:class:`RedisRateLimiter` keeps a sliding-window log in a Redis sorted set and decides in one
Lua script using the Redis server's ``TIME``, so callers' clocks never matter: a caller is
either admitted (its request is logged) or told exactly how long until the oldest logged
request leaves the window, and sleeps that long. No busy polling, and no idling while the
window has room.

When a request counts: Fortnox counts a request when it *arrives*, somewhere between our
admission and the answer reaching us, and network and server delays vary. Logging admission
times lets two windows' worth of requests land inside one of Fortnox's windows when early
ones travel slowly and later ones fast (measured against the sandbox: 429s even at 18/1
against 20/1). So a logged request counts from admission until one period after its answer
arrived (:meth:`RedisRateLimiter.finished`): its arrival at Fortnox lies in between, so every
request Fortnox still counts is still in our log, whatever the delays. It costs one request
duration per period (0.4 % at 20 ms and 5 s).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any, Protocol

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .errors import RateLimited, TransientError

log = logging.getLogger("aourly_fortnox.ratelimit")

# Added to every computed wait: the next try lands just after the slot frees, not just before.
EPSILON = 0.002


class RateLimiter(Protocol):
    """Admits requests to Fortnox for a tenant key."""

    def acquire(self, key: str) -> str:
        """Block until a request for ``key`` may be sent; a ticket for :meth:`finished`."""
        ...

    def finished(self, key: str, ticket: str) -> None:
        """The request's answer (or failure) arrived: it counts one period from now."""
        ...

    def note_429(self, key: str, retry_after: float | None = None) -> None:
        """Fortnox answered 429: make every caller for ``key`` pause."""
        ...


def parse_rate(text: str) -> tuple[int, float]:
    """``"24/5"`` -> ``(24, 5.0)``: requests per period in seconds. Bad input -> ValueError."""
    parts = str(text).split("/")
    try:
        if len(parts) != 2:
            raise ValueError
        limit = int(parts[0].strip())
        period = float(parts[1].strip())
    except ValueError:
        raise ValueError(
            f"invalid rate limit {text!r}: expected REQUESTS/SECONDS, e.g. '24/5'"
        ) from None
    if limit < 1 or not period > 0 or period == float("inf"):
        raise ValueError(
            f"invalid rate limit {text!r}: requests must be at least 1 and seconds above 0"
        )
    return limit, period


# Scores are microseconds of Redis server time: an in-flight request is scored at
# admission + in_flight (so it stays in the window), a finished one at its finish time; an
# entry leaves the window once its score is a full period old.
# KEYS[1]: the window; KEYS[2]: after a 429, the server time until which nobody is admitted
# ARGV: limit, period, unique member, in_flight, re-check interval (all times in us)
# Returns 0 when admitted, else microseconds to wait.
# Numbers go to redis.call through string.format('%.0f'): Lua 5.1 would otherwise print
# them with 14 significant digits and lose the microseconds of a 16-digit timestamp.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local in_flight = tonumber(ARGV[4])
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then
  return blocked - now
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - period))
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], string.format('%.0f', now + in_flight), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.ceil((in_flight + period) / 1000)))
  return 0
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
if oldest > now then
  -- Every slot is taken by a request still in flight: look again when one may have ended.
  return tonumber(ARGV[5])
end
local wait = oldest + period - now
if wait < 1 then
  wait = 1
end
return wait
"""

# KEYS[1]: the window; ARGV[1]: member. Re-scores the entry at the finish time (if present).
_FINISHED_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
return redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', now), ARGV[1])
"""

# KEYS[1]: the "blocked until" key; ARGV[1]: pause in microseconds. Never shortens a pause.
_NOTE_429_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if now + pause > current then
  redis.call('SET', KEYS[1], string.format('%.0f', now + pause),
             'PX', string.format('%.0f', math.ceil(pause / 1000) + 1))
end
return 0
"""

_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)


class _SlidingWindow:
    """What both limiters share: settings, the wait loop, the 429 pause length."""

    def __init__(
        self,
        limit: int,
        period: float,
        max_wait: float,
        pause_on_429: float | None,
        in_flight: float,
    ) -> None:
        if limit < 1 or not period > 0:
            raise ValueError("limit must be at least 1 and period above 0")
        self.limit = limit
        self.period = period
        self.max_wait = max_wait
        self.pause_on_429 = period if pause_on_429 is None else pause_on_429
        self.in_flight = in_flight

    def _try(self, key: str, ticket: str) -> float:
        """Admit ``ticket`` (0) or say how many seconds to wait before trying again."""
        raise NotImplementedError

    def acquire(self, key: str) -> str:
        """Block until a request for ``key`` may be sent; RateLimited after ``max_wait``."""
        ticket = uuid.uuid4().hex
        deadline = time.monotonic() + self.max_wait
        while True:
            wait = self._try(key, ticket)
            if wait <= 0:
                return ticket
            _sleep_or_give_up(wait, deadline)

    def _pause(self, retry_after: float | None) -> float:
        return self.pause_on_429 if retry_after is None else max(0.0, retry_after)


class RedisRateLimiter(_SlidingWindow):
    """A sliding-window limiter in Redis, shared by all processes using the same prefix.

    ``max_wait``: an acquire that would have to wait longer raises :class:`RateLimited`
    (retryable) instead of holding a worker. ``pause_on_429``: how long everyone pauses after
    a 429 without ``Retry-After`` (Fortnox sends none that anyone has recorded; 3); defaults
    to one period, after which Fortnox's window has emptied. ``in_flight``: how long an
    admitted request that never reports :meth:`finished` (its worker died) holds its slot.
    Keys clean themselves up: the window expires ``in_flight + period`` after the last
    admission, the pause when it ends.
    """

    def __init__(
        self,
        redis: Any,
        limit: int = 24,
        period: float = 5.0,
        prefix: str = "aourly_fortnox:rl:",
        max_wait: float = 60.0,
        *,
        pause_on_429: float | None = None,
        in_flight: float = 60.0,
    ) -> None:
        super().__init__(limit, period, max_wait, pause_on_429, in_flight)
        self.redis = redis
        self.prefix = prefix
        self._acquire = redis.register_script(_ACQUIRE_LUA)
        self._finished = redis.register_script(_FINISHED_LUA)
        self._note_429 = redis.register_script(_NOTE_429_LUA)

    def __repr__(self) -> str:
        """The limit and key prefix, so a log tells which shared window is meant."""
        return f"RedisRateLimiter({self.limit}/{self.period:g}, prefix={self.prefix!r})"

    def keys(self, key: str) -> tuple[str, str]:
        """The Redis keys for a tenant: its window and its 429 pause (one cluster slot)."""
        base = f"{self.prefix}{{{key}}}"
        return base, base + ":blocked"

    def _try(self, key: str, ticket: str) -> float:
        args = [self.limit, _us(self.period), ticket, _us(self.in_flight),
                _us(self.period / self.limit)]
        try:
            wait_us = int(self._acquire(keys=list(self.keys(key)), args=args))
        except _REDIS_DOWN as exc:
            # Without the shared window nobody may send: retry the job later.
            raise TransientError(
                reason=f"The rate limiter's Redis is unavailable ({type(exc).__name__})."
            ) from None
        return max(0, wait_us) / 1_000_000

    def finished(self, key: str, ticket: str) -> None:
        """The answer arrived: the request counts for one period from now."""
        try:
            self._finished(keys=[self.keys(key)[0]], args=[ticket])
        except _REDIS_DOWN:
            log.warning("could not record a finished request for %s: Redis unavailable", key)

    def note_429(self, key: str, retry_after: float | None = None) -> None:
        """Pause every process for ``key``: ``retry_after`` seconds, else ``pause_on_429``."""
        pause = self._pause(retry_after)
        try:
            self._note_429(keys=[self.keys(key)[1]], args=[_us(pause)])
        except _REDIS_DOWN:
            log.warning("could not record the 429 pause for %s: Redis unavailable", key)
            return
        log.warning("Fortnox answered 429 for %s; pausing %.1f s", key, pause)


class LocalRateLimiter(_SlidingWindow):
    """The same sliding window, in this process's memory only (tests, the naive baseline).

    Each process using one believes it has the whole budget, which is exactly why workers in
    several processes need :class:`RedisRateLimiter` instead.
    """

    def __init__(
        self,
        limit: int = 24,
        period: float = 5.0,
        max_wait: float = 60.0,
        *,
        pause_on_429: float | None = None,
        in_flight: float = 60.0,
    ) -> None:
        super().__init__(limit, period, max_wait, pause_on_429, in_flight)
        self._windows: dict[str, dict[str, float]] = {}  # key -> ticket -> score
        self._blocked: dict[str, float] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        """The limit, for logs and test output."""
        return f"LocalRateLimiter({self.limit}/{self.period:g})"

    def _try(self, key: str, ticket: str) -> float:
        now = time.monotonic()
        with self._lock:
            blocked = self._blocked.get(key, 0.0)
            if blocked > now:
                return blocked - now
            window = self._windows.setdefault(key, {})
            for old in [t for t, score in window.items() if score <= now - self.period]:
                del window[old]
            if len(window) < self.limit:
                window[ticket] = now + self.in_flight
                return 0.0
            oldest = min(window.values())
            if oldest > now:
                return self.period / self.limit
            return max(oldest + self.period - now, 1e-6)

    def finished(self, key: str, ticket: str) -> None:
        """The answer arrived: the request counts for one period from now."""
        with self._lock:
            window = self._windows.get(key)
            if window is not None and ticket in window:
                window[ticket] = time.monotonic()

    def note_429(self, key: str, retry_after: float | None = None) -> None:
        """Pause callers for ``key`` in this process."""
        pause = self._pause(retry_after)
        with self._lock:
            until = time.monotonic() + pause
            self._blocked[key] = max(self._blocked.get(key, 0.0), until)
        log.warning("Fortnox answered 429 for %s; pausing %.1f s", key, pause)


def _us(seconds: float) -> int:
    return int(seconds * 1_000_000)


def _sleep_or_give_up(wait: float, deadline: float) -> None:
    if time.monotonic() + wait > deadline:
        raise RateLimited(
            reason="Too many requests are waiting for Fortnox's rate limit; the request "
            "will be sent later.",
            retry_after=wait,
            status=None,
        )
    time.sleep(wait + EPSILON)
