"""Rate limiting, fault injection and request statistics.

The limiter is Fortnox's (docs/fortnox.md): a sliding window per (client id, DatabaseNumber),
25 requests per 5 s by default. Every ``/3/`` request is counted when it arrives; a request
answered 429 is not counted (docs/fortnox.md, "Rate limit"). The 429 has no body and no
``Retry-After`` unless one is configured.

Faults are drawn from seeded :class:`random.Random` generators, one for ``/3/`` and one for
the token endpoint, so a run that sends the same requests in the same order sees the same
faults. ``POST /_admin/faults`` with ``{}`` resets everything.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

_RATES = ("error_rate", "applied_rate", "token_error_rate")
_COUNTS = ("burst_429", "latency_ms", "seed")
#: 5xx answers an injected fault picks from (an outage in front of Fortnox, or Fortnox itself).
FAULT_STATUSES = (503, 502, 504, 500)


class FaultConfigError(ValueError):
    """A fault setting is out of range."""


@dataclass
class FaultConfig:
    """What ``/_admin/faults`` sets; ``burst_429`` is the number of 429s still to answer."""

    error_rate: float = 0.0
    applied_rate: float = 0.0
    token_error_rate: float = 0.0
    burst_429: int = 0
    latency_ms: int = 0
    seed: int = 0


class Faults:
    """Thread-safe, seeded fault decisions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.config = FaultConfig()
        self._reseed()

    def _reseed(self) -> None:
        # Separate streams: token traffic must not shift which /3/ requests fail.
        self._api = random.Random(f"api-{self.config.seed}")
        self._token = random.Random(f"token-{self.config.seed}")

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply ``changes`` (absent keys unchanged); ``{}`` resets to no faults."""
        unknown = set(changes) - set(_RATES) - set(_COUNTS)
        if unknown:
            raise FaultConfigError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        parsed: dict[str, Any] = {}
        for name in _RATES:
            if name in changes:
                value = float(changes[name])
                if not 0 <= value <= 1:
                    raise FaultConfigError(f"{name} must be between 0 and 1")
                parsed[name] = value
        for name in _COUNTS:
            if name in changes:
                value = int(changes[name])
                if value < 0 and name != "seed":
                    raise FaultConfigError(f"{name} must not be negative")
                parsed[name] = value
        with self._lock:
            if not changes:
                self.config = FaultConfig()
                self._reseed()
            else:
                for name, value in parsed.items():
                    setattr(self.config, name, value)
                if "seed" in parsed:
                    self._reseed()
            return asdict(self.config)

    def snapshot(self) -> dict[str, Any]:
        """The fault settings now, with the 429s still to come (``GET /_admin/faults``)."""
        with self._lock:
            return asdict(self.config)

    def latency(self) -> float:
        """Seconds to stall each /3/ and token request, to exercise timeouts and slow syncs."""
        return self.config.latency_ms / 1000.0

    def take_burst(self) -> bool:
        """True while forced 429s remain (each call uses one)."""
        with self._lock:
            if self.config.burst_429 > 0:
                self.config.burst_429 -= 1
                return True
            return False

    def draw_api(self, write: bool) -> tuple[str, int] | None:
        """``None``, ``("unapplied", status)`` or, for writes, ``("applied", status)``."""
        with self._lock:
            if self.config.error_rate <= 0 or self._api.random() >= self.config.error_rate:
                return None
            status = self._api.choice(FAULT_STATUSES)
            if write and self._api.random() < self.config.applied_rate:
                return ("applied", status)
            return ("unapplied", status)

    def draw_token(self) -> bool:
        """Whether this token call gets an injected 503 (its own seeded stream), before rotating."""
        with self._lock:
            rate = self.config.token_error_rate
            return rate > 0 and self._token.random() < rate


class SlidingWindowLimiter:
    """Requests admitted per key over the last ``window`` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def admit(self, key: str, limit: int, window: float) -> bool:
        """Fortnox's sliding window per client and company; a refused request takes no slot."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False  # refused requests are not counted (docs/fortnox.md)
            hits.append(now)
            return True


class Stats:
    """``{"<client>/<DatabaseNumber>": {"requests", "429", "5xx", "token"}}`` since start."""

    FIELDS = ("requests", "429", "5xx", "token")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, int]] = {}

    def add(self, key: str, field: str) -> None:
        """Count one event (request, 429, 5xx, token call) for ``<client>/<DatabaseNumber>``."""
        with self._lock:
            counts = self._data.setdefault(key, dict.fromkeys(self.FIELDS, 0))
            counts[field] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        """A copy of the counts, for ``GET /_admin/stats``."""
        with self._lock:
            return {key: dict(counts) for key, counts in self._data.items()}

    def reset(self) -> None:
        """Start counting afresh (``DELETE /_admin/stats``), e.g. between benchmark phases."""
        with self._lock:
            self._data.clear()
