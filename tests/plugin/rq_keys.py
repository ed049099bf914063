"""Cleaning up after RQ on the shared Redis server."""

from __future__ import annotations

import redis


def forget_queues(r: redis.Redis, names: tuple[str, ...]) -> None:
    """Delete every key RQ made for these queues (registries, their jobs and results) and
    only those: the Redis server is shared, so never FLUSHALL."""
    for name in names:
        keys = [key.decode() for key in r.scan_iter(match=f"rq:*:{name}")]
        for key in keys:
            if r.type(key) == b"zset":  # a registry: the ids of the jobs it still lists
                for job_id in r.zrange(key, 0, -1):
                    job = job_id.decode().split(":", 1)[0]
                    r.delete(f"rq:job:{job}", f"rq:results:{job}")
        if keys:
            r.delete(*keys)
        r.srem("rq:queues", f"rq:queue:{name}")
