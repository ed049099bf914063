"""A token store shared by processes (Redis, compare-and-set in Lua) and a worker entry point
for the many-processes-one-connection test. Importable by spawned children."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from aourly_fortnox.fortnox.oauth import TokenSet

# KEYS[1]: the stored token set (JSON); ARGV[1]: expected refresh token; ARGV[2]: new JSON
# ('' = mark expired, i.e. delete). Returns 1 if it won.
_CAS = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
if cjson.decode(raw)['refresh_token'] ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1
"""


class RedisTokenStore:
    """:class:`aourly_fortnox.fortnox.tokens.TokenStore` in one Redis key, safe across processes."""

    def __init__(self, conn: Any, key: str) -> None:
        self.conn = conn
        self.key = key
        self._cas = conn.register_script(_CAS)

    def save(self, tokens: TokenSet) -> None:
        self.conn.set(self.key, json.dumps(asdict(tokens)))

    def load(self) -> TokenSet | None:
        raw = self.conn.get(self.key)
        return TokenSet(**json.loads(raw)) if raw else None

    def replace(self, old_refresh_token: str, new: TokenSet) -> bool:
        return bool(self._cas(keys=[self.key], args=[old_refresh_token,
                                                       json.dumps(asdict(new))]))

    def mark_expired(self, refused_refresh_token: str) -> None:
        self._cas(keys=[self.key], args=[refused_refresh_token, ""])


def call_many(cfg: dict[str, Any], calls: int, barrier: Any, results: Any) -> None:
    """Make ``calls`` API calls on the shared connection; put (ok, errors by type)."""
    import redis

    from aourly_fortnox.fortnox.client import FortnoxClient
    from aourly_fortnox.fortnox.errors import FortnoxError
    from aourly_fortnox.fortnox.oauth import FortnoxOAuth
    from aourly_fortnox.fortnox.ratelimit import RedisRateLimiter
    from aourly_fortnox.fortnox.tokens import RedisLockFactory, TokenManager
    from tests.services import REDIS_URL

    conn = redis.Redis.from_url(REDIS_URL)
    oauth = FortnoxOAuth(cfg["auth_url"], cfg["client_id"], cfg["client_secret"],
                         cfg["redirect_uri"], cfg["scopes"], timeout=10)
    manager = TokenManager(oauth, RedisTokenStore(conn, cfg["store_key"]),
                           RedisLockFactory(conn, prefix=cfg["prefix"] + "lock:"),
                           refresh_margin=cfg["refresh_margin"], key="tenant")
    limiter = RedisRateLimiter(conn, cfg["limit"], cfg["period"], prefix=cfg["prefix"] + "rl:")
    client = FortnoxClient(cfg["api_url"], manager, limiter=limiter, limiter_key="tenant",
                           timeout=10)
    paths = ["/3/companyinformation", "/3/financialyears", "/3/voucherseries"]
    barrier.wait()
    ok = 0
    errors: dict[str, int] = {}
    for i in range(calls):
        try:
            client.request("GET", paths[i % len(paths)])
            ok += 1
        except FortnoxError as exc:
            name = f"{type(exc).__name__}:{exc.status}"
            errors[name] = errors.get(name, 0) + 1
            time.sleep(0.05)
    conn.close()
    results.put((ok, errors))
