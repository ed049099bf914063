"""The rate limiter, injected faults and the stats, as a client notices them."""

from __future__ import annotations

import time

import requests

from aourly_fortnox.sandbox.testing import RunningSandbox, running_sandbox

from .conftest import ALL_SCOPES, DB, REDIRECT

KEY = f"demo-client/{DB}"


def test_26_quick_requests_meet_exactly_one_429() -> None:
    with running_sandbox() as box:  # Fortnox's own 25 per 5 s
        token = box.tokens(ALL_SCOPES, REDIRECT)["access_token"]
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {token}"
            statuses = [
                http.get(f"{box.url}/3/customers", timeout=10).status_code for _ in range(26)
            ]
        assert statuses.count(429) == 1 and statuses[-1] == 429
        stats = box.stats()[KEY]
        assert stats == {"requests": 26, "429": 1, "5xx": 0, "token": 1}


def test_429_has_no_body_and_refused_requests_are_not_counted() -> None:
    with running_sandbox(rate_limit="5/1") as box:
        token = box.tokens(ALL_SCOPES, REDIRECT)["access_token"]
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {token}"

            def get() -> requests.Response:
                return http.get(f"{box.url}/3/customers", timeout=10)

            started = time.monotonic()
            assert [get().status_code for _ in range(5)] == [200] * 5
            last_admitted = time.monotonic()
            refused = get()
            assert refused.status_code == 429 and refused.content == b""
            assert "Retry-After" not in refused.headers
            # Hammering while refused does not extend the wait: 429s are not counted.
            while time.monotonic() - started < 0.9:
                assert get().status_code == 429
                time.sleep(0.05)
            time.sleep(max(0.0, last_admitted + 1.05 - time.monotonic()))
            assert [get().status_code for _ in range(5)] == [200] * 5
        stats = box.stats()[KEY]
        assert stats["requests"] == stats["429"] + 10


def test_limit_is_per_company_and_token_endpoint_is_free() -> None:
    with running_sandbox(rate_limit="3/5") as box:
        first = box.tokens(ALL_SCOPES, REDIRECT)
        second = box.tokens(ALL_SCOPES, REDIRECT, database_number=1002)
        for _ in range(3):
            assert box.api("GET", "customers", first["access_token"]).status_code == 200
        assert box.api("GET", "customers", first["access_token"]).status_code == 429
        assert box.api("GET", "customers", second["access_token"]).status_code == 200
        for _ in range(5):  # refreshing is not rate limited
            first = box.refresh(first["refresh_token"])
        assert box.stats()[KEY]["token"] == 6


def test_retry_after_and_burst() -> None:
    with running_sandbox(rate_limit="1/5", retry_after=7) as box:
        token = box.tokens(ALL_SCOPES, REDIRECT)["access_token"]
        assert box.api("GET", "customers", token).status_code == 200
        refused = box.api("GET", "customers", token)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "7"
        box.configure(rate_limit="100/1", retry_after=None)
        box.faults(burst_429=2)
        statuses = [box.api("GET", "customers", token).status_code for _ in range(3)]
        assert statuses == [429, 429, 200]
        assert "Retry-After" not in box.api("GET", "customers", token).headers


def test_seeded_faults_repeat(sandbox: RunningSandbox, token: str) -> None:
    def run() -> list[int]:
        sandbox.faults(error_rate=0.4, seed=11)
        return [sandbox.api("GET", "customers", token).status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert any(code >= 500 for code in first) and 200 in first
    sandbox.faults()  # {} resets
    assert sandbox.admin("GET", "/faults")["error_rate"] == 0
    stats = sandbox.stats()[KEY]
    assert stats["5xx"] == 2 * sum(code >= 500 for code in first)


def test_5xx_writes_applied_or_not(sandbox: RunningSandbox, token: str) -> None:
    def post(number: str) -> requests.Response:
        return sandbox.api(
            "POST",
            "customers",
            token,
            json={"Customer": {"CustomerNumber": number, "Name": number}},
        )

    sandbox.faults(error_rate=1.0, applied_rate=1.0)
    applied = post("APPLIED1")
    sandbox.faults(applied_rate=0.0)  # absent keys unchanged: error_rate stays 1
    unapplied = post("LOST1")
    read = sandbox.api("GET", "customers/1", token)
    sandbox.faults()
    assert applied.status_code >= 500 and unapplied.status_code >= 500 and read.status_code >= 500
    numbers = {c["CustomerNumber"] for c in sandbox.admin("GET", f"/companies/{DB}/customers")}
    assert "APPLIED1" in numbers and "LOST1" not in numbers
    assert post("APPLIED1").status_code == 400  # the client's retry meets 2000637


def test_token_faults_come_before_rotation(sandbox: RunningSandbox) -> None:
    tokens = sandbox.tokens(ALL_SCOPES, REDIRECT)
    sandbox.faults(token_error_rate=1.0)
    failed = sandbox.token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert failed.status_code == 503 and failed.headers["Content-Type"].startswith("text/html")
    sandbox.faults(token_error_rate=0.0)
    assert sandbox.refresh(tokens["refresh_token"])["access_token"]  # not rotated away


def test_latency(sandbox: RunningSandbox, token: str) -> None:
    sandbox.faults(latency_ms=150)
    started = time.monotonic()
    assert sandbox.api("GET", "customers", token).status_code == 200
    assert time.monotonic() - started >= 0.15
    sandbox.faults()


def test_stats_count_every_answer(sandbox: RunningSandbox, token: str) -> None:
    sandbox.api("GET", "customers", token)
    sandbox.api("GET", "customers/nope", token)  # 404 still counts
    sandbox.api("GET", "customers", token, params={"bad": 1})  # 400 too
    sandbox.expire_tokens()
    sandbox.api("GET", "customers", token)  # an expired token is still attributed
    sandbox.admin("GET", f"/companies/{DB}/customers")  # admin is never counted
    assert sandbox.stats() == {KEY: {"requests": 4, "429": 0, "5xx": 0, "token": 1}}
    assert sandbox.admin("DELETE", "/stats") == {}


def test_bad_admin_values_are_refused(sandbox: RunningSandbox) -> None:
    for path, body in (
        ("/faults", {"error_rate": 2}),
        ("/faults", {"colour": 1}),
        ("/settings", {"rate_limit": "fast"}),
        ("/settings", {"db": "x"}),
    ):
        answer = requests.post(f"{sandbox.url}/_admin{path}", json=body, timeout=10)
        assert answer.status_code == 400, (path, body)
    assert sandbox.configure(access_ttl=5, rate_limit=[10, 2])["rate_limit"] == "10/2"
