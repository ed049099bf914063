"""The backoff between tries of a transient failure (issue 19, "Fortnox down"): with full
jitter some rows used their 8 attempts inside a ten-minute outage and went to the owner; with
equal jitter every wait is at least half its ceiling, so the attempts cover a known least
time."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from aourly_fortnox.config import DEFAULTS
from aourly_fortnox.sync.retries import backoff_seconds, least_time_to_owner

BASE, CAP, ATTEMPTS = DEFAULTS["BACKOFF_BASE"], DEFAULTS["BACKOFF_CAP"], DEFAULTS["MAX_ATTEMPTS"]


@given(st.integers(min_value=1, max_value=40), st.floats(0.01, 100), st.floats(0.01, 10_000),
       st.integers())
def test_each_wait_lies_between_half_its_ceiling_and_the_ceiling(
    attempts: int, base: float, cap: float, seed: int
) -> None:
    ceiling = min(cap, base * 2 ** (attempts - 1))
    wait = backoff_seconds(attempts, base, cap, random.Random(seed))
    assert ceiling / 2 <= wait <= ceiling


@given(st.integers())
def test_with_the_defaults_a_ten_minute_outage_never_hands_a_row_to_the_owner(seed: int) -> None:
    rng = random.Random(seed)
    # The row is handed over at its 8th failure: after the waits that follow failures 1-7.
    waited = sum(backoff_seconds(n, BASE, CAP, rng) for n in range(1, ATTEMPTS))
    assert waited >= least_time_to_owner(ATTEMPTS, BASE, CAP) >= 10 * 60


def test_the_least_time_to_the_owner_with_the_defaults_is_32_minutes() -> None:
    # 15 + 30 + 60 + 120 + 240 + 480 + 960 seconds.
    assert least_time_to_owner(8, 30, 3600) == 1905


def test_waits_still_spread_rows_that_failed_together() -> None:
    waits = {round(backoff_seconds(3, BASE, CAP, random.Random(seed)), 3) for seed in range(50)}
    assert len(waits) > 40 and min(waits) >= 60 and max(waits) <= 120


def test_the_random_half_spans_the_whole_upper_half_of_the_ceiling() -> None:
    """Rows that failed together spread over all of [ceiling / 2, ceiling], not a slice of it:
    the spread is what keeps them from coming back at Fortnox at once."""
    ceiling = min(CAP, BASE * 2 ** 2)  # the 3rd attempt: 120 s with the defaults
    waits = [backoff_seconds(3, BASE, CAP, random.Random(seed)) for seed in range(200)]
    assert min(waits) < ceiling * 0.55 and max(waits) > ceiling * 0.95
