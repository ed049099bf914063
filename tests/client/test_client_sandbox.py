"""The client layer against the sandbox over loopback: OAuth rotation, consent, pages, and
many worker processes sharing one short-lived connection without a 429 or invalid_grant."""

from __future__ import annotations

import multiprocessing
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
import requests

from aourly_fortnox.fortnox.client import FortnoxClient
from aourly_fortnox.fortnox.errors import AuthorizationExpired, OAuthError
from aourly_fortnox.fortnox.oauth import FortnoxOAuth, parse_callback
from aourly_fortnox.fortnox.tokens import MemoryTokenStore, ThreadLockFactory, TokenManager
from tests.client.sandbox_workers import RedisTokenStore, call_many
from tests.services import REDIS_URL

testing = pytest.importorskip("aourly_fortnox.sandbox.testing")

REDIRECT = "http://127.0.0.1:9/callback"
SCOPES = "companyinformation customer invoice bookkeeping settings"


def oauth_for(sandbox: Any) -> FortnoxOAuth:
    return FortnoxOAuth(f"{sandbox.url}/oauth-v1", sandbox.client_id, sandbox.client_secret,
                        REDIRECT, SCOPES, timeout=10)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with testing.running_sandbox(extra_accounts=1200, quiet=True) as box:
        yield box


def test_code_exchange_rotation_and_reuse(sandbox: Any) -> None:
    oauth = oauth_for(sandbox)
    code = sandbox.grant_code(REDIRECT, SCOPES)
    first = oauth.exchange_code(code)
    with pytest.raises(OAuthError) as reused_code:
        oauth.exchange_code(code)  # single use (docs/fortnox.md, "Authorization")
    assert reused_code.value.error == "invalid_grant"
    assert not isinstance(reused_code.value, AuthorizationExpired)

    second = oauth.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    oauth.revoke(second.refresh_token)
    with pytest.raises(AuthorizationExpired):
        oauth.refresh(second.refresh_token)

    # A refresh token sent twice: invalid_grant, and the whole chain is gone with it.
    third = oauth.exchange_code(sandbox.grant_code(REDIRECT, SCOPES))
    fourth = oauth.refresh(third.refresh_token)
    with pytest.raises(AuthorizationExpired):
        oauth.refresh(third.refresh_token)  # rotated away: invalid_grant
    with pytest.raises(AuthorizationExpired):
        oauth.refresh(fourth.refresh_token)  # the winner of the "race" lost too


def test_wrong_client_secret_is_oauth_error(sandbox: Any) -> None:
    oauth = FortnoxOAuth(f"{sandbox.url}/oauth-v1", sandbox.client_id, "wrong", REDIRECT,
                         SCOPES)
    with pytest.raises(OAuthError) as info:
        oauth.exchange_code(sandbox.grant_code(REDIRECT, SCOPES))
    assert info.value.error == "invalid_client"


def _consent(sandbox: Any, oauth: FortnoxOAuth, state: str, action: str) -> dict[str, str]:
    """Open *our* authorization URL on the consent page, press a button; the callback args."""
    with requests.Session() as browser:
        page = browser.get(oauth.authorization_url(state), allow_redirects=False, timeout=10)
        assert page.status_code == 200, page.headers.get("Location")
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
        company = re.search(r'name="database_number" value="(\d+)"', page.text)
        assert nonce and company
        answer = browser.post(f"{sandbox.url}/oauth-v1/auth", allow_redirects=False, timeout=10,
                              data={"nonce": nonce.group(1), "action": action,
                                    "database_number": company.group(1)})
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_our_authorization_url_and_callback_parse(sandbox: Any) -> None:
    oauth = oauth_for(sandbox)
    code = parse_callback(_consent(sandbox, oauth, "st-0", "grant"), "st-0")
    assert oauth.exchange_code(code).scope == SCOPES


def test_denied_consent_becomes_oauth_error(sandbox: Any) -> None:
    args = _consent(sandbox, oauth_for(sandbox), "st-1", "deny")
    with pytest.raises(OAuthError) as info:
        parse_callback(args, "st-1")
    assert info.value.error == "access_denied"


def test_pagination_over_1200_extra_accounts(sandbox: Any) -> None:
    oauth = oauth_for(sandbox)
    tokens = oauth.exchange_code(sandbox.grant_code(REDIRECT, SCOPES))
    client = FortnoxClient(sandbox.url, TokenManager(oauth, MemoryTokenStore(tokens),
                                                     ThreadLockFactory()))
    years = client.financial_years()
    assert years
    year_id = years[-1]["Id"]
    accounts = client.accounts(year_id)
    numbers = [a["Number"] for a in accounts]
    assert len(numbers) == len(set(numbers)) >= 1200  # every account exactly once
    db = client.company_information()["DatabaseNumber"]
    everything = sandbox.admin("GET", f"/_admin/companies/{db}/accounts")
    expected = {a["Number"] for a in everything
                if a.get("Year") in (None, year_id)}
    assert set(numbers) == expected


@pytest.mark.redis
def test_eight_processes_share_one_short_lived_connection() -> None:
    """THE test: 8 processes, one connection whose access token lives 2 s, one limiter.

    The sandbox revokes the whole chain if a refresh token is ever sent twice, so the shared
    lock must make that impossible: every refresh token is spent exactly once."""
    conn = redis.Redis.from_url(REDIS_URL)
    prefix = f"test:aourly_fortnox:{uuid.uuid4().hex}:"
    workers, total = 8, 300
    try:
        with testing.running_sandbox(access_ttl=2, rate_limit="20/1", quiet=True) as box:
            oauth = oauth_for(box)
            store = RedisTokenStore(conn, prefix + "tokens")
            store.save(oauth.exchange_code(box.grant_code(REDIRECT, SCOPES)))
            cfg = {"auth_url": f"{box.url}/oauth-v1", "api_url": box.url,
                   "client_id": box.client_id, "client_secret": box.client_secret,
                   "redirect_uri": REDIRECT, "scopes": SCOPES, "store_key": prefix + "tokens",
                   "prefix": prefix, "refresh_margin": 0.5, "limit": 19, "period": 1.0}
            ctx = multiprocessing.get_context("spawn")
            barrier = ctx.Barrier(workers)
            results = ctx.Queue()
            shares = [total // workers + (1 if i < total % workers else 0)
                      for i in range(workers)]
            procs = [ctx.Process(target=call_many, args=(cfg, n, barrier, results))
                     for n in shares]
            for proc in procs:
                proc.start()
            outcomes = [results.get(timeout=120) for _ in procs]
            for proc in procs:
                proc.join(10)
            stats = box.stats()
            issued = box.refresh_tokens()
        ok = sum(o[0] for o in outcomes)
        errors: dict[str, int] = {}
        for _, errs in outcomes:
            for name, n in errs.items():
                errors[name] = errors.get(name, 0) + n
        assert errors == {} and ok == total
        assert sum(int(s.get("429", 0)) for s in stats.values()) == 0
        stored = store.load()
        assert stored is not None  # never marked expired: no invalid_grant
        token_calls = sum(int(s.get("token", 0)) for s in stats.values())
        assert token_calls >= 5  # it did rotate
        # One chain, each refresh token spent exactly once, the newest one stored and live.
        assert len(issued) == token_calls  # the code exchange plus one per refresh
        assert [t["uses"] for t in issued] == [1] * (len(issued) - 1) + [0]
        assert [t["state"] for t in issued] == ["used"] * (len(issued) - 1) + ["live"]
        assert issued[-1]["refresh_token"] == stored.refresh_token
    finally:
        for key in conn.scan_iter(match=prefix + "*"):
            conn.delete(key)
        conn.close()
