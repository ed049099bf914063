"""When a transient failure is tried again: full-jitter exponential backoff, then the owner.

Pure: the engine passes the attempt count and the settings; tests pass a seeded random.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def backoff_seconds(
    attempts: int, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Full jitter: a random wait between 0 and ``min(cap, base * 2**attempts)``, so many
    failed rows do not come back at the same moment."""
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return (rng or random).uniform(0, ceiling)


def next_attempt(
    now: datetime, attempts: int, base: float, cap: float, rng: random.Random | None = None
) -> datetime:
    """When the row is due again after its ``attempts``-th failure."""
    return now + timedelta(seconds=backoff_seconds(attempts, base, cap, rng))
