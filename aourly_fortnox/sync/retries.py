"""When a transient failure is tried again: equal-jitter exponential backoff, then the owner.

Pure: the engine passes the attempt count and the settings; tests pass a seeded random.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def backoff_seconds(
    attempts: int, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Equal jitter: a random wait between half of ``min(cap, base * 2**(attempts - 1))``
    and all of it. The fixed half makes the waits add up, so a row reaches the attempt cap
    only after a known least time (with the defaults, 8 attempts from 30 s: 32 minutes;
    full jitter gave some rows up inside a ten-minute Fortnox outage). The random half still
    spreads rows that failed together."""
    ceiling = min(cap, base * 2.0 ** max(0, attempts - 1))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def least_time_to_owner(max_attempts: int, base: float, cap: float) -> float:
    """The shortest time, in seconds, from a row's first failure to the one that hands it to
    the owner (every wait at its lower bound)."""
    return sum(min(cap, base * 2.0 ** max(0, n - 1)) / 2 for n in range(1, max_attempts))


def next_attempt(
    now: datetime, attempts: int, base: float, cap: float, rng: random.Random | None = None
) -> datetime:
    """When the row is due again after its ``attempts``-th failure."""
    return now + timedelta(seconds=backoff_seconds(attempts, base, cap, rng))
