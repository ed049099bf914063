"""Benchmark: how long the rate limiter's Lua script takes under fakeredis + lupa (the demo's
embedded queue), beside a real Redis and the in-process limiter.

The unit test (tests/client/test_client_ratelimit.py) checks what the limiter *does* under
fakeredis: every request admitted, never more than the limit in any window. How *fast* it is
depends on the machine and its load, so it is measured here and printed, not asserted.

Four threads take 20 slots at 5 per 0.5 s: four windows, so the last admission can come at
1.5 s at the earliest; the figure is how far past that each limiter lands.
Run ``python -m bench.fakeredis_limiter --rounds 10`` from the project root.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from collections.abc import Callable

from aourly_fortnox.fortnox.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter

LIMIT, PERIOD, THREADS, EACH = 5, 0.5, 4, 5
IDEAL = (THREADS * EACH // LIMIT - 1) * PERIOD  # 1.5 s


def one_round(limiter: RateLimiter, key: str) -> float:
    """Seconds from the start until the last of THREADS * EACH admissions."""
    barrier = threading.Barrier(THREADS + 1)
    stamps: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait()
        for _ in range(EACH):
            ticket = limiter.acquire(key)
            with lock:
                stamps.append(time.monotonic())
            limiter.finished(key, ticket)

    pool = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    for thread in pool:
        thread.join(60)
    return max(stamps) - started


def measure(name: str, make: Callable[[], RateLimiter], rounds: int) -> None:
    times = [one_round(make(), f"bench-{uuid.uuid4().hex}") for _ in range(rounds)]
    print(f"{name:10s} last admission after {statistics.median(times):.3f} s median, "
          f"{max(times):.3f} s worst of {rounds} (ideal {IDEAL:.2f} s; "
          f"worst overshoot {max(times) - IDEAL:+.3f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--redis-url", default=None,
                        help="also measure a real Redis (e.g. redis://127.0.0.1:6379/0)")
    args = parser.parse_args(argv)

    import fakeredis

    measure("fakeredis", lambda: RedisRateLimiter(fakeredis.FakeRedis(), LIMIT, PERIOD),
            args.rounds)
    measure("local", lambda: LocalRateLimiter(LIMIT, PERIOD), args.rounds)
    if args.redis_url:
        import redis

        conn = redis.Redis.from_url(args.redis_url)
        prefix = f"bench:aourly_fortnox:{uuid.uuid4().hex}:"
        try:
            measure("redis", lambda: RedisRateLimiter(conn, LIMIT, PERIOD, prefix=prefix),
                    args.rounds)
        finally:
            for key in conn.scan_iter(match=prefix + "*"):
                conn.delete(key)
            conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
