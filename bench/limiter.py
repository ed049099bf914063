"""Benchmark: how much of Fortnox's rate budget do N worker processes get, and how many 429s?

Starts the sandbox in-process (real limit 25/5 by default) and runs the same load twice:

- ``shared``: every process uses one :class:`RedisRateLimiter` (ours, default 24/5);
- ``naive``: every process has its own :class:`LocalRateLimiter` and believes it has the whole
  25/5 budget (what a per-process limiter amounts to).

Each process sends ``GET /3/companyinformation`` through :class:`FortnoxClient` for
``--seconds`` and counts requests sent inside that time. The 429 count comes from the
sandbox's own statistics. Run ``python -m bench.limiter --seconds 30`` from the project root.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aourly_fortnox.fortnox.ratelimit import (
    LocalRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    parse_rate,
)

REDIRECT_URI = "http://127.0.0.1:9/bench-callback"
SCOPES = "companyinformation customer invoice bookkeeping settings"


class _DeadlinePassed(Exception):
    """Raised by the limiter wrapper once the run is over: the request is not sent."""


class _DeadlineLimiter:
    """Counts only requests admitted before the deadline (a wait may run past it)."""

    def __init__(self, inner: RateLimiter, deadline: float) -> None:
        self.inner = inner
        self.deadline = deadline

    def acquire(self, key: str) -> str:
        ticket = self.inner.acquire(key)
        if time.time() >= self.deadline:
            self.inner.finished(key, ticket)
            raise _DeadlinePassed
        return ticket

    def finished(self, key: str, ticket: str) -> None:
        self.inner.finished(key, ticket)

    def note_429(self, key: str, retry_after: float | None = None) -> None:
        self.inner.note_429(key, retry_after)


@dataclass
class WorkerJob:
    mode: str
    api_url: str
    auth_url: str
    client_id: str
    client_secret: str
    tokens: dict[str, Any]
    limiter_key: str
    ours: tuple[int, float]
    fortnox: tuple[int, float]
    redis_url: str
    prefix: str
    seconds: float


def run_worker(job: WorkerJob, barrier: Any, results: Any) -> None:
    """One worker process: send requests until the deadline; report (ok, 429s, other)."""
    import redis

    from aourly_fortnox.fortnox.client import FortnoxClient
    from aourly_fortnox.fortnox.errors import FortnoxError, RateLimited
    from aourly_fortnox.fortnox.oauth import FortnoxOAuth, TokenSet
    from aourly_fortnox.fortnox.tokens import MemoryTokenStore, ThreadLockFactory, TokenManager

    # The 429 warnings of the naive mode are the point, but belong in the table, not here.
    logging.getLogger("aourly_fortnox").setLevel(logging.ERROR)
    conn = redis.Redis.from_url(job.redis_url)
    inner: RateLimiter
    if job.mode == "shared":
        inner = RedisRateLimiter(conn, job.ours[0], job.ours[1], prefix=job.prefix)
    else:
        inner = LocalRateLimiter(job.fortnox[0], job.fortnox[1])
    oauth = FortnoxOAuth(job.auth_url, job.client_id, job.client_secret, REDIRECT_URI, SCOPES)
    manager = TokenManager(oauth, MemoryTokenStore(TokenSet(**job.tokens)), ThreadLockFactory())
    barrier.wait()
    deadline = time.time() + job.seconds
    client = FortnoxClient(job.api_url, manager, limiter=_DeadlineLimiter(inner, deadline),
                           limiter_key=job.limiter_key, timeout=10)
    ok = limited = other = 0
    while time.time() < deadline:
        try:
            client.company_information()
            ok += 1
        except _DeadlinePassed:
            break
        except RateLimited:
            limited += 1
        except FortnoxError:
            other += 1
    conn.close()
    results.put((ok, limited, other))


def run_mode(mode: str, workers: int, job: WorkerJob) -> tuple[int, int, int]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    job.mode = mode
    procs = [ctx.Process(target=run_worker, args=(job, barrier, results))
             for _ in range(workers)]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=job.seconds + 120) for _ in procs]
    for proc in procs:
        proc.join(30)
    return (sum(o[0] for o in outcomes), sum(o[1] for o in outcomes),
            sum(o[2] for o in outcomes))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", default="25/5", help="the sandbox's (Fortnox's) limit")
    parser.add_argument("--ours", default="24/5", help="our shared limiter's rate")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args(argv)
    fortnox = parse_rate(args.rate)
    ours = parse_rate(args.ours)

    import redis

    from aourly_fortnox.fortnox.oauth import FortnoxOAuth
    from aourly_fortnox.sandbox.testing import running_sandbox

    prefix = f"bench:aourly_fortnox:{uuid.uuid4().hex}:"
    conn = redis.Redis.from_url(args.redis_url)
    conn.ping()
    rows = []
    with running_sandbox(rate_limit=args.rate, quiet=True) as sandbox:
        oauth = FortnoxOAuth(f"{sandbox.url}/oauth-v1", sandbox.client_id,
                             sandbox.client_secret, REDIRECT_URI, SCOPES)
        tokens = oauth.exchange_code(sandbox.grant_code(REDIRECT_URI, SCOPES))
        job = WorkerJob(
            mode="", api_url=sandbox.url, auth_url=f"{sandbox.url}/oauth-v1",
            client_id=sandbox.client_id, client_secret=sandbox.client_secret,
            tokens={"access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
                    "expires_at": tokens.expires_at, "scope": tokens.scope},
            limiter_key="bench", ours=ours, fortnox=fortnox, redis_url=args.redis_url,
            prefix=prefix, seconds=args.seconds,
        )
        for mode in ("shared", "naive"):
            before = _stats_429(sandbox.stats())
            ok, limited, other = run_mode(mode, args.workers, job)
            server_429 = _stats_429(sandbox.stats()) - before
            rows.append((mode, ok, limited, other, server_429))
            time.sleep(fortnox[1] + 0.5)  # let the sandbox's window empty between modes
    for key in conn.scan_iter(match=prefix + "*"):
        conn.delete(key)
    conn.close()

    allowed = fortnox[0] / fortnox[1]
    print(f"\n{args.workers} processes, {args.seconds:g} s each mode, Fortnox limit "
          f"{args.rate} ({allowed:g} req/s), shared limiter {args.ours}\n")
    header = f"{'mode':<8} {'requests ok':>11} {'req/s':>7} {'% of allowed':>12} {'429s':>6}"
    print(header)
    print("-" * len(header))
    for mode, ok, _limited, other, server_429 in rows:
        rate = ok / args.seconds
        line = (f"{mode:<8} {ok:>11} {rate:>7.2f} {100 * rate / allowed:>11.1f}% "
                f"{server_429:>6}")
        print(line + (f"   ({other} other errors)" if other else ""))
    return 0


def _stats_429(stats: dict[str, Any]) -> int:
    return sum(int(entry.get("429", 0)) for entry in stats.values())


if __name__ == "__main__":
    raise SystemExit(main())
