"""Cleaning up after RQ on the shared Redis server."""

from __future__ import annotations

import redis


def forget_queues(r: redis.Redis, names: tuple[str, ...]) -> None:
    """Delete every key RQ made for these queues (registries, their jobs and results) and
    only those: the Redis server is shared, so never FLUSHALL."""
    for name in names:
        keys = [key.decode() for key in r.scan_iter(match=f"rq:*:{name}")]
        for key in keys:
            kind = r.type(key)
            if kind in (b"zset", b"list"):  # a registry or the queue: the jobs it still lists
                ids = r.zrange(key, 0, -1) if kind == b"zset" else r.lrange(key, 0, -1)
                for job_id in ids:
                    job = job_id.decode().split(":", 1)[0]
                    r.delete(f"rq:job:{job}", f"rq:results:{job}")
        if keys:
            r.delete(*keys)
        r.srem("rq:queues", f"rq:queue:{name}")
