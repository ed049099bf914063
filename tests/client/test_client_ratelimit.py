"""Rate limiters: never more than L per window P, shared across processes, no idling."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable

import fakeredis
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from aourly_fortnox.fortnox.errors import RateLimited
from aourly_fortnox.fortnox.ratelimit import (
    LocalRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    parse_rate,
)
from tests.client.ratelimit_workers import acquire_many

# Admit times are taken in the caller after the script answered, a few ms after the server
# decided; this much slack keeps the window check honest without flaking.
SLACK = 0.03


def max_in_window(stamps: list[float], period: float) -> int:
    stamps = sorted(stamps)
    best = 0
    j = 0
    for i, start in enumerate(stamps):
        while j < len(stamps) and stamps[j] < start + period - SLACK:
            j += 1
        best = max(best, j - i)
    return best


def hammer(limiter: RateLimiter, key: str, threads: int, each: int) -> list[float]:
    stamps: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work() -> None:
        barrier.wait()
        for _ in range(each):
            ticket = limiter.acquire(key)
            with lock:
                stamps.append(time.time())
            limiter.finished(key, ticket)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(30)
    return stamps


@pytest.mark.parametrize(("text", "expected"), [("24/5", (24, 5.0)), (" 10 / 0.5 ", (10, 0.5)),
                                                ("1/1", (1, 1.0))])
def test_parse_rate(text: str, expected: tuple[int, float]) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["", "24", "24/", "/5", "a/5", "24/b", "0/5", "24/0", "24/-1",
                                  "2.5/5", "24/5/1", "24/inf", "24/nan"])
def test_parse_rate_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="REQUESTS/SECONDS|at least 1"):
        parse_rate(text)


def check_limiter(make: Callable[[], RateLimiter], key: str, no_idling: bool = True) -> None:
    limit, period = 5, 0.5
    started = time.time()
    stamps = sorted(hammer(make(), key, threads=4, each=5))
    assert len(stamps) == 20
    assert max_in_window(stamps, period) <= limit
    # 20 admits at 5 per 0.5 s fill four windows, the last starting at 1.5 s at the earliest.
    elapsed = max(stamps) - started
    assert 3 * period - SLACK <= elapsed
    if no_idling:  # ...and not much later
        assert elapsed <= 3 * period + 0.25


@pytest.mark.redis
def test_redis_limiter_never_exceeds_the_window(redis_conn: redis.Redis,
                                                redis_prefix: str) -> None:
    check_limiter(lambda: RedisRateLimiter(redis_conn, 5, 0.5, prefix=redis_prefix), "t1")
    window, _ = RedisRateLimiter(redis_conn, 5, 0.5, prefix=redis_prefix).keys("t1")
    assert 0 < redis_conn.pttl(window) <= 60_500  # the log expires (in_flight + period)


def test_fakeredis_with_lupa_runs_the_same_script() -> None:
    """Same admissions and windows as Redis. How fast lupa runs the script depends on the
    machine's load: measured by ``python -m bench.fakeredis_limiter``, not asserted here."""
    conn = fakeredis.FakeRedis()
    check_limiter(lambda: RedisRateLimiter(conn, 5, 0.5), "t1", no_idling=False)


def test_local_limiter_same_semantics() -> None:
    limiter = LocalRateLimiter(5, 0.5)
    check_limiter(lambda: limiter, "t1")


@pytest.mark.redis
def test_tenants_have_separate_budgets(redis_conn: redis.Redis, redis_prefix: str) -> None:
    limiter = RedisRateLimiter(redis_conn, 3, 10.0, prefix=redis_prefix, max_wait=0.05)
    for key in ("a", "b"):
        for _ in range(3):
            limiter.finished(key, limiter.acquire(key))
    with pytest.raises(RateLimited) as info:
        limiter.acquire("a")
    assert info.value.retry_after is not None and 9 < info.value.retry_after <= 10


@pytest.mark.redis
def test_two_processes_share_one_budget(redis_conn: redis.Redis, redis_prefix: str) -> None:
    limit, period, each = 6, 0.5, 12
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=acquire_many, args=(redis_prefix, "shared", limit, period, each,
                                                    barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(10)
    start = min(started for started, _ in outcomes)
    stamps = sorted(s for _, got in outcomes for s in got)
    assert len(stamps) == 2 * each
    assert max_in_window(stamps, period) <= limit
    # 24 admits at 6 per 0.5 s: the last one in the fourth window.
    assert 3 * period - SLACK <= stamps[-1] - start <= 3 * period + 0.25


@pytest.mark.redis
def test_note_429_pauses_every_process(redis_conn: redis.Redis, redis_prefix: str) -> None:
    one = RedisRateLimiter(redis_conn, 10, 1.0, prefix=redis_prefix)
    other = RedisRateLimiter(redis_conn, 10, 1.0, prefix=redis_prefix)
    one.note_429("t", 0.4)
    one.note_429("t", 0.1)  # a shorter pause never cuts a longer one short
    started = time.monotonic()
    other.acquire("t")
    assert 0.38 <= time.monotonic() - started <= 0.6
    one.note_429("u")  # no Retry-After: one period by default
    _, blocked = one.keys("u")
    assert 900 <= redis_conn.pttl(blocked) <= 1002


def test_local_note_429_and_max_wait() -> None:
    limiter = LocalRateLimiter(2, 1.0, max_wait=0.2)
    limiter.note_429("t", 0.1)
    started = time.monotonic()
    limiter.acquire("t")
    assert time.monotonic() - started >= 0.1
    limiter.acquire("t")
    with pytest.raises(RateLimited):
        limiter.acquire("t")


def test_redis_down_is_transient() -> None:
    from aourly_fortnox.fortnox.errors import TransientError

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2,
                       retry=Retry(NoBackoff(), 0))
    limiter = RedisRateLimiter(dead, 5, 1.0)
    with pytest.raises(TransientError) as info:
        limiter.acquire("t")
    # What the sync log tells the operator: which server, and how it failed.
    assert info.value.reason == "The rate limiter's Redis is unavailable (ConnectionError)."
    limiter.note_429("t", 1.0)  # logged, never raised: the 429 itself is what matters


@pytest.mark.redis
def test_redis_all_slots_in_flight_means_looking_again_after_one_slot_time(
        redis_conn: redis.Redis, redis_prefix: str) -> None:
    """No answer has come back yet, so no slot has a known end: the caller looks again after
    one slot's share of the period (2 s / 4), not after a whole window or more."""
    limiter = RedisRateLimiter(redis_conn, 4, 2.0, prefix=redis_prefix, max_wait=0.0)
    for _ in range(4):
        limiter.acquire("t")  # none answered yet
    with pytest.raises(RateLimited) as info:
        limiter.acquire("t")
    assert info.value.retry_after == pytest.approx(2.0 / 4)


@pytest.mark.redis
def test_a_configured_429_pause_holds_every_process_that_long(redis_conn: redis.Redis,
                                                              redis_prefix: str) -> None:
    limiter = RedisRateLimiter(redis_conn, 10, 5.0, prefix=redis_prefix, max_wait=0.0,
                               pause_on_429=0.3)
    limiter.note_429("t")  # no Retry-After: the configured pause, not one period
    with pytest.raises(RateLimited) as info:
        RedisRateLimiter(redis_conn, 10, 5.0, prefix=redis_prefix, max_wait=0.0).acquire("t")
    assert 0.2 < info.value.retry_after <= 0.3


def test_the_shipped_limiter_keeps_fortnoxs_limit_in_one_well_known_window() -> None:
    """Every worker process, and the previous release's during a rolling deploy, must find the
    same window: its key is part of the contract, as are the defaults (Fortnox's 25/5 less one
    for clock skew, docs/fortnox.md "Rate limit")."""
    conn = fakeredis.FakeRedis()
    limiter = RedisRateLimiter(conn)
    assert (limiter.limit, limiter.period, limiter.max_wait, limiter.in_flight) == (
        24, 5.0, 60.0, 60.0)
    assert limiter.pause_on_429 == 5.0  # one period
    limiter.acquire("client/1001")
    limiter.note_429("client/1001", 1.0)
    assert sorted(conn.keys("*")) == [b"aourly_fortnox:rl:{client/1001}",
                                      b"aourly_fortnox:rl:{client/1001}:blocked"]
    mine = RedisRateLimiter(conn, prefix="other:")
    mine.acquire("client/1001")  # another prefix, another window (not blocked by the 429)
    assert b"other:{client/1001}" in conn.keys("*")


def check_counts_from_the_answer(limiter: RateLimiter) -> None:
    """A slot is held while the request is in flight and for one period after its answer."""
    period = 0.4
    slow = limiter.acquire("k")  # a slow request: its answer comes 0.3 s later
    fast = limiter.acquire("k")
    limiter.finished("k", fast)
    started = time.monotonic()
    threading.Timer(0.3, limiter.finished, args=("k", slow)).start()
    limiter.acquire("k")  # the fast one frees its slot first
    assert period - 0.05 <= time.monotonic() - started <= period + 0.1
    limiter.acquire("k")  # the slow one: one period after its answer, not after admission
    assert 0.3 + period - 0.05 <= time.monotonic() - started <= 0.3 + period + 0.15


@pytest.mark.redis
def test_redis_slot_counts_from_the_answer(redis_conn: redis.Redis, redis_prefix: str) -> None:
    check_counts_from_the_answer(RedisRateLimiter(redis_conn, 2, 0.4, prefix=redis_prefix))


def test_fakeredis_and_local_slot_counts_from_the_answer() -> None:
    check_counts_from_the_answer(RedisRateLimiter(fakeredis.FakeRedis(), 2, 0.4))
    check_counts_from_the_answer(LocalRateLimiter(2, 0.4))


@pytest.mark.redis
def test_an_abandoned_ticket_expires_after_in_flight(redis_conn: redis.Redis,
                                                     redis_prefix: str) -> None:
    limiter = RedisRateLimiter(redis_conn, 1, 0.2, prefix=redis_prefix, in_flight=0.3)
    limiter.acquire("k")  # its worker died: finished() never comes
    started = time.monotonic()
    limiter.acquire("k")
    assert 0.45 <= time.monotonic() - started <= 0.75
