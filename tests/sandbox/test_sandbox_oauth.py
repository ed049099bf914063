"""The OAuth server as a client sees it: consent, codes, rotation, revocation, expiry."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import requests

from aourly_fortnox.sandbox.app import SESSION_COOKIE_NAME
from aourly_fortnox.sandbox.testing import RunningSandbox, running_sandbox

from .conftest import ALL_SCOPES, DB, REDIRECT, error_of


def auth_params(sandbox: RunningSandbox, **overrides: str) -> dict[str, str]:
    params = {
        "client_id": sandbox.client_id,
        "response_type": "code",
        "state": "xyz",
        "scope": ALL_SCOPES,
        "redirect_uri": REDIRECT,
    }
    params.update(overrides)
    return params


def query_of(response: requests.Response) -> dict[str, str]:
    location = response.headers["Location"]
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def submit(
    browser: requests.Session,
    page: requests.Response,
    action: str,
    database_number: int | None = None,
) -> requests.Response:
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce
    data = {"nonce": nonce.group(1), "action": action}
    if database_number is not None:
        data["database_number"] = str(database_number)
    return browser.post(page.url.split("?")[0], data=data, allow_redirects=False, timeout=10)


def test_consent_page_lists_scopes_companies_and_buttons(sandbox: RunningSandbox) -> None:
    with requests.Session() as browser:
        page = browser.get(f"{sandbox.auth_url}/auth", params=auth_params(sandbox), timeout=10)
        assert page.status_code == 200
        assert SESSION_COOKIE_NAME in browser.cookies
        assert "session" not in browser.cookies  # never Flask's default name (docs/architecture.md)
    for scope in ALL_SCOPES.split():
        assert f'data-scope="{scope}"' in page.text
    assert "Bokföring" in page.text and "Fakturor" in page.text
    assert ">Grant Access</button>" in page.text and ">Deny</button>" in page.text
    radios = re.findall(r'name="database_number" value="(\d+)"( checked)?', page.text)
    assert [(int(value), bool(checked)) for value, checked in radios] == [
        (1001, True),
        (1002, False),
    ]


def test_grant_redirects_with_code_and_state(sandbox: RunningSandbox) -> None:
    with requests.Session() as browser:
        page = browser.get(f"{sandbox.auth_url}/auth", params=auth_params(sandbox), timeout=10)
        answer = submit(browser, page, "grant", 1002)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith(REDIRECT + "?")
        args = query_of(answer)
        assert args["state"] == "xyz" and args["code"]
        # The nonce is single use: replaying the form is refused without a redirect.
        again = submit(browser, page, "grant", 1002)
        assert again.status_code == 400 and "Location" not in again.headers
    tokens = sandbox.exchange_code(args["code"], REDIRECT)
    info = sandbox.api("GET", "companyinformation", tokens["access_token"]).json()
    assert info["CompanyInformation"]["DatabaseNumber"] == 1002


def test_deny_redirects_with_access_denied(sandbox: RunningSandbox) -> None:
    with requests.Session() as browser:
        page = browser.get(f"{sandbox.auth_url}/auth", params=auth_params(sandbox), timeout=10)
        args = query_of(submit(browser, page, "deny"))
    assert args["error"] == "access_denied" and args["state"] == "xyz"
    assert args["error_description"]
    assert "code" not in args


def test_form_from_another_browser_is_refused(sandbox: RunningSandbox) -> None:
    with requests.Session() as browser:
        page = browser.get(f"{sandbox.auth_url}/auth", params=auth_params(sandbox), timeout=10)
    with requests.Session() as other:
        answer = submit(other, page, "grant", DB)
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_unknown_client_and_foreign_redirect_get_an_error_page(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.auth_url}/auth"
    for params in (
        auth_params(sandbox, client_id="nope"),
        auth_params(sandbox, redirect_uri="https://evil.example/cb"),
        auth_params(sandbox, redirect_uri="http://10.0.0.1:5000/cb"),
    ):
        page = requests.get(url, params=params, allow_redirects=False, timeout=10)
        assert page.status_code == 400 and "Location" not in page.headers
        assert "text/html" in page.headers["Content-Type"]


def test_unknown_scope_redirects_with_invalid_scope(sandbox: RunningSandbox) -> None:
    page = requests.get(
        f"{sandbox.auth_url}/auth",
        allow_redirects=False,
        timeout=10,
        params=auth_params(sandbox, scope="customer salary"),
    )
    assert page.status_code == 302
    assert query_of(page)["error"] == "invalid_scope" and query_of(page)["state"] == "xyz"


def test_registered_redirect_uri_must_match_exactly() -> None:
    with running_sandbox(redirect_uris=["http://127.0.0.1:5000/cb"]) as box:
        url = f"{box.auth_url}/auth"
        good = requests.get(
            url, params=auth_params(box, redirect_uri="http://127.0.0.1:5000/cb"), timeout=10
        )
        assert good.status_code == 200
        for wrong in (
            "http://127.0.0.1:5000/cb/",
            "http://localhost:5000/cb",
            "http://127.0.0.1:5001/cb",
        ):
            page = requests.get(
                url, params=auth_params(box, redirect_uri=wrong), allow_redirects=False, timeout=10
            )
            assert page.status_code == 400 and "Location" not in page.headers


def test_locked_company_refuses_consent(sandbox: RunningSandbox) -> None:
    sandbox.admin("POST", f"/companies/{DB}/settings", {"locked": True})
    with requests.Session() as browser:
        page = browser.get(f"{sandbox.auth_url}/auth", params=auth_params(sandbox), timeout=10)
        assert "ingen aktiv licens" in page.text
        args = query_of(submit(browser, page, "grant", DB))
    assert args["error"] == "access_denied" and "license" in args["error_description"]


def test_code_is_single_use_and_redirect_uri_must_repeat(sandbox: RunningSandbox) -> None:
    code = sandbox.grant_code(REDIRECT, ALL_SCOPES)
    wrong = sandbox.token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1:5000/other",
        }
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # The failed attempt spent the code, as a used code is spent.
    again = sandbox.token_request(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "Authorization code doesn't exist or is invalid for the client",
    }
    fresh = sandbox.grant_code(REDIRECT, ALL_SCOPES)
    assert sandbox.exchange_code(fresh, REDIRECT)["token_type"] == "bearer"
    reused = sandbox.token_request(
        {"grant_type": "authorization_code", "code": fresh, "redirect_uri": REDIRECT}
    )
    assert reused.json()["error"] == "invalid_grant"


def test_code_expires() -> None:
    with running_sandbox(code_ttl=0.3) as box:
        code = box.grant_code(REDIRECT, ALL_SCOPES)
        time.sleep(0.4)
        late = box.token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        )
        assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_token_response_shape(sandbox: RunningSandbox) -> None:
    tokens = sandbox.tokens("customer invoice", REDIRECT)
    assert set(tokens) == {"access_token", "refresh_token", "scope", "expires_in", "token_type"}
    assert tokens["scope"] == "customer invoice" and tokens["expires_in"] == 3600
    assert tokens["token_type"] == "bearer"
    assert len(tokens["access_token"].split(".")) == 3  # JWT-shaped
    assert re.fullmatch(r"[0-9a-f-]{36}", tokens["refresh_token"])


def test_wrong_client_gets_invalid_client_as_text(sandbox: RunningSandbox) -> None:
    code = sandbox.grant_code(REDIRECT, ALL_SCOPES)
    for auth in ((sandbox.client_id, "wrong"), ("other-client", sandbox.client_secret)):
        answer = sandbox.token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}, auth=auth
        )
        assert answer.status_code == 401
        assert answer.headers["Content-Type"].startswith("text/plain")  # Fortnox's lie (2.6)
        assert answer.json() == {
            "error": "invalid_client",
            "error_description": "The client credentials are invalid",
        }
    no_auth = requests.post(
        f"{sandbox.auth_url}/token",
        timeout=10,
        data={"grant_type": "authorization_code", "code": code},
    )
    assert no_auth.status_code == 401


def refresh_answer(sandbox: RunningSandbox, refresh_token: str) -> requests.Response:
    return sandbox.token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})


def test_refresh_rotates_and_reuse_is_invalid_grant(sandbox: RunningSandbox) -> None:
    """A second use of a refresh token revokes its whole chain (the default setting)."""
    first = sandbox.tokens(ALL_SCOPES, REDIRECT)
    second = sandbox.refresh(first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == ALL_SCOPES
    third = sandbox.refresh(second["refresh_token"])
    other = sandbox.tokens(ALL_SCOPES, REDIRECT)  # another consent of the same company
    reuse = refresh_answer(sandbox, first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.headers["Content-Type"].startswith("text/html")  # recorded (2.6)
    assert reuse.json() == {"error": "invalid_grant", "error_description": "Invalid refresh token"}
    # The chain is dead: the newest refresh token too, and every access token of it.
    assert refresh_answer(sandbox, third["refresh_token"]).json()["error"] == "invalid_grant"
    for tokens in (first, second, third):
        denied = sandbox.api("GET", "customers", tokens["access_token"])
        assert denied.status_code == 401 and denied.json() == {"message": "unauthorized"}
    assert sandbox.api("GET", "customers", other["access_token"]).status_code == 200
    assert sandbox.refresh(other["refresh_token"])["token_type"] == "bearer"
    uses = {t["refresh_token"]: (t["uses"], t["state"]) for t in sandbox.refresh_tokens()}
    assert uses[first["refresh_token"]] == (2, "revoked")
    assert uses[third["refresh_token"]] == (0, "revoked")  # never spent: refused
    assert uses[other["refresh_token"]] == (1, "used")


def test_reuse_is_only_refused_when_the_setting_is_off() -> None:
    with running_sandbox(refresh_reuse_revokes=False) as box:
        assert box.admin("GET", "/settings")["refresh_reuse_revokes"] is False
        first = box.tokens(ALL_SCOPES, REDIRECT)
        second = box.refresh(first["refresh_token"])
        reuse = refresh_answer(box, first["refresh_token"])
        assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
        # The chain lives: the winner's token still refreshes, every access token works.
        third = box.refresh(second["refresh_token"])
        for tokens in (first, second, third):
            assert box.api("GET", "customers", tokens["access_token"]).status_code == 200
        assert box.refresh_tokens()[0]["uses"] == 2  # the second use still shows
        # Switched on at run time, the next reuse revokes the chain.
        assert box.configure(refresh_reuse_revokes=True)["refresh_reuse_revokes"] is True
        assert refresh_answer(box, second["refresh_token"]).json()["error"] == "invalid_grant"
        assert box.api("GET", "customers", third["access_token"]).status_code == 401


def test_simultaneous_refreshes_kill_the_chain(sandbox: RunningSandbox) -> None:
    """Two workers refreshing with one token at once: one is answered, then both lose."""
    tokens = sandbox.tokens(ALL_SCOPES, REDIRECT)
    barrier = threading.Barrier(2)

    def race(_: int) -> requests.Response:
        barrier.wait()
        return refresh_answer(sandbox, tokens["refresh_token"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(race, range(2)))
    assert sorted(answer.status_code for answer in answers) == [200, 400]
    winner = next(answer.json() for answer in answers if answer.status_code == 200)
    assert sandbox.api("GET", "customers", winner["access_token"]).status_code == 401
    assert refresh_answer(sandbox, winner["refresh_token"]).json()["error"] == "invalid_grant"
    assert sandbox.refresh_tokens()[0]["uses"] == 2


def revoke(sandbox: RunningSandbox, refresh_token: str) -> requests.Response:
    return requests.post(
        f"{sandbox.auth_url}/revoke",
        timeout=10,
        auth=(sandbox.client_id, sandbox.client_secret),
        data={"token_type_hint": "refresh_token", "token": refresh_token},
    )


def test_revoke_stops_refresh_and_access_tokens(sandbox: RunningSandbox) -> None:
    """``/revoke`` ends the refresh token; access tokens live until they expire (Fortnox
    cannot revoke them). A consent withdrawn by the company stops them at once."""
    first = sandbox.tokens(ALL_SCOPES, REDIRECT)
    second = sandbox.refresh(first["refresh_token"])
    answer = revoke(sandbox, second["refresh_token"])
    assert answer.status_code == 200 and answer.json() == {"revoked": True}
    after = refresh_answer(sandbox, second["refresh_token"])
    assert after.json()["error"] == "invalid_grant"
    for tokens in (first, second):
        assert sandbox.api("GET", "customers", tokens["access_token"]).status_code == 200
    states = {t["refresh_token"]: t["state"] for t in sandbox.refresh_tokens()}
    assert states[second["refresh_token"]] == "closed"
    other = sandbox.tokens(ALL_SCOPES, REDIRECT)  # a new consent is unaffected
    assert sandbox.api("GET", "customers", other["access_token"]).status_code == 200
    # An unknown token is not an error (RFC 7009) and changes nothing.
    assert revoke(sandbox, "not-a-token").json() == {"revoked": True}
    assert sandbox.api("GET", "customers", first["access_token"]).status_code == 200
    # Consent withdrawn (the admin API): every access token stops at once.
    sandbox.admin("POST", f"/companies/{DB}/revoke")
    for tokens in (first, second, other):
        denied = sandbox.api("GET", "customers", tokens["access_token"])
        assert denied.status_code == 401 and denied.json() == {"message": "unauthorized"}


def test_revoke_with_an_old_refresh_token_ends_the_consent(sandbox: RunningSandbox) -> None:
    first = sandbox.tokens(ALL_SCOPES, REDIRECT)
    second = sandbox.refresh(first["refresh_token"])
    assert revoke(sandbox, first["refresh_token"]).json() == {"revoked": True}
    assert refresh_answer(sandbox, second["refresh_token"]).json()["error"] == "invalid_grant"
    assert sandbox.api("GET", "customers", second["access_token"]).status_code == 200
    # Revoking is not a use: the spent token still shows one use, the chain was not killed.
    states = {t["refresh_token"]: (t["uses"], t["state"]) for t in sandbox.refresh_tokens()}
    assert states[first["refresh_token"]] == (1, "closed")
    assert states[second["refresh_token"]] == (0, "closed")


def test_revoked_access_tokens_still_expire() -> None:
    with running_sandbox(access_ttl=0.5) as box:
        tokens = box.tokens(ALL_SCOPES, REDIRECT)
        revoke(box, tokens["refresh_token"])
        assert box.api("GET", "customers", tokens["access_token"]).status_code == 200
        time.sleep(0.6)
        assert box.api("GET", "customers", tokens["access_token"]).status_code == 401
        assert refresh_answer(box, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_expired_access_token_is_exactly_unauthorized() -> None:
    with running_sandbox(access_ttl=0.5) as box:
        tokens = box.tokens(ALL_SCOPES, REDIRECT)
        assert box.api("GET", "customers", tokens["access_token"]).status_code == 200
        time.sleep(0.6)
        expired = box.api("GET", "customers", tokens["access_token"])
        assert expired.status_code == 401
        assert expired.content == b'{"message":"unauthorized"}'
        assert expired.json() == {"message": "unauthorized"}
        fresh = box.refresh(tokens["refresh_token"])  # the refresh token still works
        assert box.api("GET", "customers", fresh["access_token"]).status_code == 200
    for bad in ("", "garbage", "a.b.c"):
        with running_sandbox() as box:
            answer = box.api("GET", "customers", bad)
            assert answer.status_code == 401 and answer.json() == {"message": "unauthorized"}


def test_refresh_token_expires() -> None:
    with running_sandbox(refresh_ttl=0.3) as box:
        tokens = box.tokens(ALL_SCOPES, REDIRECT)
        time.sleep(0.4)
        late = box.token_request(
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        )
        assert late.json()["error"] == "invalid_grant"


def test_admin_expiry_and_company_revocation(sandbox: RunningSandbox) -> None:
    tokens = sandbox.tokens(ALL_SCOPES, REDIRECT)
    sandbox.expire_tokens(refresh=False)
    assert sandbox.api("GET", "customers", tokens["access_token"]).status_code == 401
    renewed = sandbox.refresh(tokens["refresh_token"])
    sandbox.expire_tokens(refresh=True)
    dead = sandbox.token_request(
        {"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]}
    )
    assert dead.json()["error"] == "invalid_grant"
    again = sandbox.tokens(ALL_SCOPES, REDIRECT)  # consent renews it
    assert sandbox.admin("POST", f"/companies/{DB}/revoke") == {"revoked": 2}
    assert sandbox.api("GET", "customers", again["access_token"]).status_code == 401


def test_scope_is_checked_per_resource(sandbox: RunningSandbox) -> None:
    tokens = sandbox.tokens("customer", REDIRECT)
    assert sandbox.api("GET", "customers", tokens["access_token"]).status_code == 200
    for path in (
        "invoices",
        "vouchers",
        "accounts",
        "companyinformation",
        "predefinedaccounts",
        "settings/lockedperiod",
    ):
        answer = sandbox.api("GET", path, tokens["access_token"])
        assert error_of(answer) == (400, 2000663), path
        assert answer.json()["ErrorInformation"]["message"] == "Har inte behörighet för scope."


def test_service_account_client_credentials(sandbox: RunningSandbox) -> None:
    with requests.Session() as browser:
        page = browser.get(
            f"{sandbox.auth_url}/auth",
            timeout=10,
            params=auth_params(sandbox, account_type="service"),
        )
        code = query_of(submit(browser, page, "grant", DB))["code"]
    service = sandbox.exchange_code(code, REDIRECT)
    answer = sandbox.token_request(
        {"grant_type": "client_credentials"}, headers={"TenantId": str(DB)}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert "refresh_token" not in body and body["token_type"] == "bearer"
    assert sandbox.api("GET", "customers", body["access_token"]).status_code == 200
    other = sandbox.token_request(
        {"grant_type": "client_credentials"}, headers={"TenantId": "1002"}
    )
    assert other.status_code == 400
    # /revoke ends the service consent too: no new tokens, the issued one lives on.
    revoke(sandbox, service["refresh_token"])
    ended = sandbox.token_request(
        {"grant_type": "client_credentials"}, headers={"TenantId": str(DB)}
    )
    assert ended.status_code == 400 and ended.json()["error"] == "invalid_grant"
    assert sandbox.api("GET", "customers", body["access_token"]).status_code == 200
