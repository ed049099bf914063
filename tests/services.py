"""Where the test suite finds its servers: one place, overridable from the environment.

``AOURLY_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``) and
``AOURLY_TEST_POSTGRES_URL`` (default the local ``test`` database) let CI or a developer point
the suite at other servers without editing a test.
"""

from __future__ import annotations

import os

REDIS_URL = os.environ.get("AOURLY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "AOURLY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def forget_request_budgets() -> None:
    """Give the next test the sandbox company's whole request budget.

    The rate limiter keeps its window in Redis under (client id, DatabaseNumber), and every
    test's sandbox is client ``demo-client`` on company 1001: back-to-back tests in one run
    shared one window. A test whose send met a window its predecessors had filled found its
    push waiting for the next one, its item still pending (seen under mutmut's back-to-back
    runs). Nothing to do when the test Redis is not running (tests that need it say so)."""
    import redis

    try:
        conn = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
        try:
            keys = list(conn.scan_iter(match="aourly_fortnox:rl:*"))
            if keys:
                conn.delete(*keys)
        finally:
            conn.close()
    except redis.RedisError:
        pass
