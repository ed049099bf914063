"""The sliding window, step by step on a clock the test moves (no sleeping, no wall time).

A request counts from its admission until one whole period after its answer; a window trimmed
any earlier lets more than the limit through in one of Fortnox's windows (429s, and a
paused tenant). ``LocalRateLimiter`` is driven here on a fake clock; the same rules for the
Redis limiter run against the real server in test_client_ratelimit.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fakeredis import FakeRedis

from aourly_fortnox.fortnox import ratelimit
from aourly_fortnox.fortnox.errors import RateLimited
from aourly_fortnox.fortnox.ratelimit import LocalRateLimiter


class Clock:
    """Stands in for the ``time`` module inside ratelimit.py: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(ratelimit, "time", fake)
    yield fake


def fill(limiter: LocalRateLimiter, key: str = "t") -> None:
    for _ in range(limiter.limit):
        limiter.finished(key, limiter.acquire(key))


def test_a_full_window_stays_full_until_one_whole_period_after_the_answers(
    clock: Clock,
) -> None:
    limiter = LocalRateLimiter(3, 10.0, max_wait=0.0)
    fill(limiter)
    for elapsed in (0.0, 5.0, 6.0, 9.9):  # half the period and more: still Fortnox's window
        clock.now = 1000.0 + elapsed
        with pytest.raises(RateLimited) as info:
            limiter.acquire("t")
        assert info.value.retry_after == pytest.approx(10.0 - elapsed)
    clock.now = 1010.0  # a whole period after the answers: room again
    limiter.acquire("t")


def test_the_wait_is_exactly_until_the_oldest_request_leaves(clock: Clock) -> None:
    limiter = LocalRateLimiter(2, 4.0, max_wait=60.0)
    limiter.finished("t", limiter.acquire("t"))
    clock.advance(1.0)
    limiter.finished("t", limiter.acquire("t"))
    clock.advance(1.0)
    limiter.acquire("t")  # full: waits for the first one, answered at 1000, to leave at 1004
    assert clock.now == pytest.approx(1004.0 + ratelimit.EPSILON)
    assert len(clock.slept) == 1


def test_a_request_still_in_flight_keeps_its_slot(clock: Clock) -> None:
    limiter = LocalRateLimiter(1, 1.0, max_wait=0.0, in_flight=30.0)
    limiter.acquire("t")  # no answer yet
    clock.advance(20.0)
    with pytest.raises(RateLimited):
        limiter.acquire("t")
    clock.advance(10.0 + 1.0)  # in_flight and a period passed: the worker must have died
    limiter.acquire("t")


def test_the_slot_counts_from_the_answer_not_from_the_admission(clock: Clock) -> None:
    limiter = LocalRateLimiter(1, 5.0, max_wait=0.0)
    ticket = limiter.acquire("t")
    clock.advance(3.0)  # a slow answer
    limiter.finished("t", ticket)
    clock.advance(4.0)  # 7 s after admission, 4 s after the answer
    with pytest.raises(RateLimited):
        limiter.acquire("t")
    clock.advance(1.0)
    limiter.acquire("t")


def test_tenants_do_not_share_a_window(clock: Clock) -> None:
    limiter = LocalRateLimiter(2, 5.0, max_wait=0.0)
    fill(limiter, "a")
    fill(limiter, "b")
    with pytest.raises(RateLimited):
        limiter.acquire("a")


def test_a_429_pauses_the_tenant_for_retry_after_or_one_period(clock: Clock) -> None:
    limiter = LocalRateLimiter(10, 5.0, max_wait=0.0)
    limiter.note_429("t", 2.0)
    limiter.note_429("t", 0.5)  # a shorter pause never cuts a longer one short
    with pytest.raises(RateLimited) as info:
        limiter.acquire("t")
    assert info.value.retry_after == pytest.approx(2.0)
    limiter.acquire("u")  # another tenant is not paused
    clock.advance(2.0)
    limiter.acquire("t")
    limiter.note_429("t")  # no Retry-After: one period
    clock.advance(4.9)
    with pytest.raises(RateLimited):
        limiter.acquire("t")
    clock.advance(0.1)
    limiter.acquire("t")


def test_waiting_longer_than_max_wait_gives_up_without_sleeping(clock: Clock) -> None:
    limiter = LocalRateLimiter(1, 10.0, max_wait=3.0)
    fill(limiter)
    with pytest.raises(RateLimited) as info:
        limiter.acquire("t")
    assert clock.slept == []
    assert info.value.retry_after == pytest.approx(10.0)
    assert info.value.status is None


def test_a_pause_right_after_the_clock_starts_ends_on_time(clock: Clock) -> None:
    clock.now = 0.0  # a monotonic clock may start near zero (a fresh boot)
    limiter = LocalRateLimiter(5, 5.0, max_wait=0.0)
    limiter.note_429("t", 0.5)
    clock.advance(0.5)
    limiter.acquire("t")


def test_a_429_is_logged_with_the_tenant_and_the_pause(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = LocalRateLimiter(5, 5.0)
    with caplog.at_level(logging.WARNING, logger="aourly_fortnox.ratelimit"):
        limiter.note_429("client/1001", 2.0)
        limiter.note_429("client/1002")
    assert caplog.messages == ["Fortnox answered 429 for client/1001; pausing 2.0 s",
                               "Fortnox answered 429 for client/1002; pausing 5.0 s"]


@pytest.mark.parametrize(("limit", "period"), [(0, 5.0), (5, 0.0), (5, -1.0), (0, 0.0)])
def test_a_limiter_that_could_never_admit_is_refused_when_built(limit: int,
                                                                period: float) -> None:
    for limiter in (LocalRateLimiter, lambda *a: ratelimit.RedisRateLimiter(FakeRedis(), *a)):
        with pytest.raises(ValueError) as info:
            limiter(limit, period)
        assert str(info.value) == "limit must be at least 1 and period above 0"


def test_the_defaults_are_fortnoxs_limit_with_room_for_clock_skew() -> None:
    limiter = LocalRateLimiter()
    assert (limiter.limit, limiter.period, limiter.max_wait, limiter.in_flight) == (
        24, 5.0, 60.0, 60.0)
    assert limiter.pause_on_429 == 5.0  # one period
    assert LocalRateLimiter(pause_on_429=2.0).pause_on_429 == 2.0


def test_all_slots_in_flight_means_looking_again_after_one_slot_time(clock: Clock) -> None:
    limiter = LocalRateLimiter(4, 2.0, max_wait=0.0)
    for _ in range(4):
        limiter.acquire("t")  # none answered yet
    with pytest.raises(RateLimited) as info:
        limiter.acquire("t")
    assert info.value.retry_after == pytest.approx(2.0 / 4)


def test_a_fresh_tenant_is_admitted_at_once_even_at_clock_zero(clock: Clock) -> None:
    clock.now = 0.0
    limiter = LocalRateLimiter(1, 5.0, max_wait=0.0)
    clock.now = 0.5
    limiter.acquire("t")
    assert clock.slept == []


def test_finishing_an_unknown_ticket_changes_nothing(clock: Clock) -> None:
    limiter = LocalRateLimiter(1, 5.0, max_wait=0.0)
    limiter.finished("never-seen", "ticket")
    ticket = limiter.acquire("t")
    limiter.finished("t", "someone-else's")  # the real one stays in flight
    clock.advance(5.0)
    with pytest.raises(RateLimited):
        limiter.acquire("t")
    limiter.finished("t", ticket)
    clock.advance(5.0)
    limiter.acquire("t")


def test_giving_up_says_the_request_will_be_sent_later(clock: Clock) -> None:
    limiter = LocalRateLimiter(1, 10.0, max_wait=1.0)
    fill(limiter)
    with pytest.raises(RateLimited) as info:
        limiter.acquire("t")
    assert info.value.reason == ("Too many requests are waiting for Fortnox's rate limit; the "
                                 "request will be sent later.")
