"""FortnoxOAuth against fake token endpoints, including Fortnox's lying Content-Types."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from aourly_fortnox.fortnox.errors import AuthorizationExpired, OAuthError, TransientError
from aourly_fortnox.fortnox.oauth import (
    FortnoxOAuth,
    TokenSet,
    build_authorization_url,
    encode_redirect_uri,
    parse_callback,
)
from tests.client.client_helpers import AUTH, SECRET, token_body

TOKEN = f"{AUTH}/token"
BASIC = "Basic " + base64.b64encode(f"client-id:{SECRET}".encode()).decode()


def test_authorization_url(oauth: FortnoxOAuth) -> None:
    url = oauth.authorization_url("st8")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{AUTH}/auth"
    assert parse_qs(parts.query) == {
        "client_id": ["client-id"], "response_type": ["code"], "state": ["st8"],
        "scope": ["customer invoice"], "redirect_uri": ["https://host.test/cb"],
        "access_type": ["offline"]}
    assert "scope=customer%20invoice" in url  # space-delimited, %20 as in Fortnox's docs


def test_redirect_uri_encoding_is_one_function() -> None:
    assert encode_redirect_uri("https://h.test/cb?x=1&y=2") == (
        "https%3A%2F%2Fh.test%2Fcb%3Fx%3D1%26y%3D2")
    url = build_authorization_url(AUTH, "c", "s", "invoice", "http://127.0.0.1:5000/cb?a=b")
    assert parse_qs(urlsplit(url).query)["redirect_uri"] == ["http://127.0.0.1:5000/cb?a=b"]
    assert "redirect_uri" not in build_authorization_url(AUTH, "c", "s", "invoice", None)


def test_exchange_code(mocked: responses.RequestsMock, oauth: FortnoxOAuth) -> None:
    call = mocked.post(TOKEN, json=token_body("acc", "ref", 3600), content_type="text/plain",
                       match=[matchers.header_matcher({"Authorization": BASIC}),
                              matchers.urlencoded_params_matcher({
                                  "grant_type": "authorization_code", "code": "c0de",
                                  "redirect_uri": "https://host.test/cb"})])
    before = time.time()
    tokens = oauth.exchange_code("c0de")
    assert (tokens.access_token, tokens.refresh_token) == ("acc", "ref")
    assert before + 3600 <= tokens.expires_at <= time.time() + 3600
    assert tokens.scope == "customer invoice"
    assert call.call_count == 1


def test_exchange_code_reused_is_oauth_error_not_expired(mocked: responses.RequestsMock,
                                                         oauth: FortnoxOAuth) -> None:
    mocked.post(TOKEN, status=400, content_type="text/html", body=json.dumps({
        "error": "invalid_grant",
        "error_description": "Authorization code doesn't exist or is invalid for the client"}))
    with pytest.raises(OAuthError) as info:
        oauth.exchange_code("used")
    assert not isinstance(info.value, AuthorizationExpired)
    assert info.value.error == "invalid_grant" and info.value.status == 400


def test_refresh_rotates(mocked: responses.RequestsMock, oauth: FortnoxOAuth) -> None:
    mocked.post(TOKEN, json=token_body("acc2", "ref2"), content_type="text/html",
                match=[matchers.header_matcher({"Authorization": BASIC}),
                       matchers.urlencoded_params_matcher({"grant_type": "refresh_token",
                                                           "refresh_token": "ref1"})])
    assert oauth.refresh("ref1").refresh_token == "ref2"


def test_refresh_invalid_grant_text_html_is_authorization_expired(
    mocked: responses.RequestsMock, oauth: FortnoxOAuth
) -> None:
    # Recorded: 400, JSON body, Content-Type text/html (docs/fortnox.md, "Authorization").
    mocked.post(TOKEN, status=400, content_type="text/html", body=json.dumps(
        {"error": "invalid_grant", "error_description": "Invalid refresh token"}))
    with pytest.raises(AuthorizationExpired) as info:
        oauth.refresh("ref1")
    assert info.value.status == 400 and info.value.message == "Invalid refresh token"


def test_refresh_invalid_client_text_plain_is_oauth_error(mocked: responses.RequestsMock,
                                                          oauth: FortnoxOAuth) -> None:
    mocked.post(TOKEN, status=401, content_type="text/plain", body=json.dumps(
        {"error": "invalid_client", "error_description": "The client credentials are invalid"}))
    with pytest.raises(OAuthError) as info:
        oauth.refresh("ref1")
    assert info.value.error == "invalid_client" and info.value.status == 401
    assert "AOURLY_FORTNOX_CLIENT_ID" in info.value.reason


@pytest.mark.parametrize("status", [500, 503, 429])
def test_token_endpoint_5xx_is_transient_only(mocked: responses.RequestsMock,
                                              oauth: FortnoxOAuth, status: int) -> None:
    mocked.post(TOKEN, status=status, body="<html>down</html>", content_type="text/html")
    with pytest.raises(TransientError) as info:
        oauth.refresh("ref1")
    # Not an OAuthError: callers that catch OAuthError as "refused" must not catch this.
    assert not isinstance(info.value, OAuthError)
    assert info.value.status == status


def test_token_endpoint_network_error_is_transient(mocked: responses.RequestsMock,
                                                   oauth: FortnoxOAuth) -> None:
    mocked.post(TOKEN, body=requests.ConnectionError("refused"))
    with pytest.raises(TransientError):
        oauth.exchange_code("c")


def test_token_endpoint_4xx_html_is_oauth_error(mocked: responses.RequestsMock,
                                                oauth: FortnoxOAuth) -> None:
    mocked.post(TOKEN, status=404, body="<html>nope</html>", content_type="text/html")
    with pytest.raises(OAuthError) as info:
        oauth.refresh("ref1")
    assert info.value.error == "invalid_response" and info.value.status == 404


def test_token_answer_without_tokens(mocked: responses.RequestsMock,
                                     oauth: FortnoxOAuth) -> None:
    mocked.post(TOKEN, json={"token_type": "bearer"})
    with pytest.raises(OAuthError):
        oauth.exchange_code("c")


def test_revoke(mocked: responses.RequestsMock, oauth: FortnoxOAuth) -> None:
    call = mocked.post(f"{AUTH}/revoke", json={"revoked": True},
                       match=[matchers.header_matcher({"Authorization": BASIC}),
                              matchers.urlencoded_params_matcher({
                                  "token": "ref1", "token_type_hint": "refresh_token"})])
    oauth.revoke("ref1")
    assert call.call_count == 1


def test_revoke_errors(mocked: responses.RequestsMock, oauth: FortnoxOAuth) -> None:
    mocked.post(f"{AUTH}/revoke", status=400, json={"error": "invalid_grant"})
    oauth.revoke("already-dead")  # nothing left to revoke: fine
    mocked.replace(responses.POST, f"{AUTH}/revoke", status=401,
                   json={"error": "invalid_client"})
    with pytest.raises(OAuthError):
        oauth.revoke("ref1")
    mocked.replace(responses.POST, f"{AUTH}/revoke", status=502)
    with pytest.raises(TransientError):
        oauth.revoke("ref1")


def test_parse_callback() -> None:
    assert parse_callback({"code": "c", "state": "s"}, "s") == "c"
    with pytest.raises(OAuthError) as denied:
        parse_callback({"error": "access_denied", "error_description": "nej", "state": "s"},
                       "s")
    assert denied.value.error == "access_denied" and denied.value.message == "nej"
    with pytest.raises(OAuthError) as bad_state:
        parse_callback({"code": "c", "state": "other"}, "s")
    assert bad_state.value.error == "invalid_state"
    with pytest.raises(OAuthError):
        parse_callback({"state": "s"}, "s")


def test_token_set_repr_hides_tokens() -> None:
    tokens = TokenSet("the-access-token", "the-refresh-token", 1.0, "invoice")
    for text in (repr(tokens), str(tokens)):
        assert "the-access-token" not in text and "the-refresh-token" not in text
    assert "invoice" in repr(tokens)
    assert SECRET not in repr(FortnoxOAuth(AUTH, "id", SECRET, None, "x"))
