"""FortnoxClient against fake Fortnox answers: error mapping, 401 refresh, parsing, pages."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from aourly_fortnox.fortnox.client import FortnoxClient, parse_retry_after
from aourly_fortnox.fortnox.errors import (
    AuthorizationExpired,
    FortnoxError,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    Unauthorized,
    ValidationFailed,
)
from aourly_fortnox.fortnox.ratelimit import LocalRateLimiter
from aourly_fortnox.fortnox.tokens import MemoryTokenStore, TokenManager
from tests.client.client_helpers import API, AUTH, SECRET, token_body

CUSTOMERS = f"{API}/3/customers"


def test_success_sends_bearer_and_json_headers(mocked: responses.RequestsMock,
                                               client: FortnoxClient) -> None:
    mocked.get(f"{CUSTOMERS}/AOU42", json={"Customer": {"CustomerNumber": "AOU42"}},
               match=[matchers.header_matcher({"Authorization": "Bearer access-OLD-0123456789",
                                               "Accept": "application/json"})])
    assert client.get_customer("AOU42") == {"CustomerNumber": "AOU42"}


def test_post_sends_envelope_as_utf8_json_with_decimals(mocked: responses.RequestsMock,
                                                        client: FortnoxClient) -> None:
    call = mocked.post(CUSTOMERS, status=201, json={"Customer": {"CustomerNumber": "AOU42"}})
    client.create_customer({"Name": "Kund Å AB €", "Price": Decimal("950.50"),
                            "Qty": Decimal("10")})
    request = call.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    sent = json.loads(request.body)
    assert sent == {"Customer": {"Name": "Kund Å AB €", "Price": 950.5, "Qty": 10}}


def test_404_capitalised_error_information(mocked: responses.RequestsMock,
                                           client: FortnoxClient) -> None:
    mocked.get(f"{CUSTOMERS}/X1", status=404, json={
        "ErrorInformation": {"Error": 1, "Message": "Kan inte hitta kunden.", "Code": 2000433}})
    with pytest.raises(NotFound) as info:
        client.get_customer("X1")
    exc = info.value
    assert (exc.status, exc.code, exc.message) == (404, 2000433, "Kan inte hitta kunden.")
    assert exc.reason == "The customer does not exist in Fortnox."
    assert "Kan inte hitta kunden." in str(exc)


def test_400_lower_case_error_information(mocked: responses.RequestsMock,
                                          client: FortnoxClient) -> None:
    mocked.get(CUSTOMERS, status=400, json={
        "ErrorInformation": {"error": 1, "message": "Ett ogiltigt filter har använts.",
                             "code": 2000587}})
    with pytest.raises(ValidationFailed) as info:
        client.find_customers(filter="nonsense")
    assert info.value.code == 2000587
    assert info.value.message == "Ett ogiltigt filter har använts."
    assert not isinstance(info.value, PermissionDenied)


def test_400_code_as_string(mocked: responses.RequestsMock, client: FortnoxClient) -> None:
    mocked.post(CUSTOMERS, status=400, json={
        "ErrorInformation": {"error": "1", "message": "Kundnummer 1 används redan.",
                             "code": "2000637"}})
    with pytest.raises(ValidationFailed) as info:
        client.create_customer({"CustomerNumber": "1", "Name": "x"})
    assert info.value.code == 2000637
    assert "reserved" in info.value.reason


@pytest.mark.parametrize("code", [2000663, 2001101, 2001103])
def test_scope_and_licence_codes_are_permission_denied(
    mocked: responses.RequestsMock, client: FortnoxClient, code: int
) -> None:
    mocked.get(f"{API}/3/vouchers", status=400,
               json={"ErrorInformation": {"error": 1, "message": "Nej", "code": code}})
    with pytest.raises(PermissionDenied) as info:
        list(client.vouchers(1))
    assert isinstance(info.value, ValidationFailed)
    assert info.value.code == code


def test_403_is_permission_denied(mocked: responses.RequestsMock, client: FortnoxClient) -> None:
    mocked.get(f"{API}/3/companyinformation", status=403, body="Forbidden")
    with pytest.raises(PermissionDenied):
        client.company_information()


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_non_json_5xx_is_transient(mocked: responses.RequestsMock, client: FortnoxClient,
                                   status: int) -> None:
    mocked.get(f"{API}/3/companyinformation", status=status,
               body="<html><body>Bad gateway</body></html>", content_type="text/html")
    with pytest.raises(TransientError) as info:
        client.company_information()
    assert info.value.status == status and info.value.code is None


def test_5xx_is_not_retried_by_the_client(mocked: responses.RequestsMock,
                                          client: FortnoxClient) -> None:
    call = mocked.post(CUSTOMERS, status=503)
    with pytest.raises(TransientError):
        client.create_customer({"Name": "x"})
    assert call.call_count == 1


def test_429_without_retry_after_pauses_the_limiter(mocked: responses.RequestsMock,
                                                    manager: TokenManager) -> None:
    limiter = LocalRateLimiter(10, 1.0, pause_on_429=0.3, max_wait=0.1)
    client = FortnoxClient(API, manager, limiter=limiter, limiter_key="t")
    call = mocked.get(f"{API}/3/companyinformation", status=429, body="")
    with pytest.raises(RateLimited) as info:
        client.company_information()
    assert info.value.status == 429 and info.value.retry_after is None
    assert call.call_count == 1
    # Every caller of that tenant now waits the default pause (longer than max_wait here).
    with pytest.raises(RateLimited):
        limiter.acquire("t")
    limiter.acquire("other-tenant")


def test_429_with_retry_after(mocked: responses.RequestsMock, manager: TokenManager) -> None:
    limiter = LocalRateLimiter(10, 1.0, max_wait=5.0)
    client = FortnoxClient(API, manager, limiter=limiter, limiter_key="t")
    mocked.get(f"{API}/3/companyinformation", status=429, headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as info:
        client.company_information()
    assert info.value.retry_after == 7.0
    with pytest.raises(RateLimited) as waited:
        limiter.acquire("t")  # 7 s pause > max_wait 5 s: refuses at once instead of sleeping
    assert waited.value.retry_after is not None and waited.value.retry_after > 6


def test_parse_retry_after_variants() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_401_then_refresh_then_success(mocked: responses.RequestsMock, client: FortnoxClient,
                                       store: MemoryTokenStore) -> None:
    mocked.get(f"{API}/3/companyinformation", status=401, json={"message": "unauthorized"},
               match=[matchers.header_matcher({"Authorization": "Bearer access-OLD-0123456789"})])
    mocked.get(f"{API}/3/companyinformation", json={"CompanyInformation": {"DatabaseNumber": 7}},
               match=[matchers.header_matcher({"Authorization": "Bearer access-NEW"})])
    token = mocked.post(f"{AUTH}/token", json=token_body("access-NEW", "refresh-NEW"),
                        content_type="text/html")
    assert client.company_information() == {"DatabaseNumber": 7}
    assert token.call_count == 1
    stored = store.load()
    assert stored is not None and stored.refresh_token == "refresh-NEW"


def test_401_twice_is_unauthorized(mocked: responses.RequestsMock, client: FortnoxClient) -> None:
    api = mocked.get(f"{API}/3/companyinformation", status=401, json={"message": "unauthorized"})
    token = mocked.post(f"{AUTH}/token", json=token_body("access-NEW", "refresh-NEW"))
    with pytest.raises(Unauthorized) as info:
        client.company_information()
    assert api.call_count == 2 and token.call_count == 1
    assert info.value.status == 401 and info.value.message == "unauthorized"


def test_401_with_refused_refresh_is_authorization_expired(
    mocked: responses.RequestsMock, client: FortnoxClient, store: MemoryTokenStore
) -> None:
    mocked.get(f"{API}/3/companyinformation", status=401, json={"message": "unauthorized"})
    mocked.post(f"{AUTH}/token", status=400, content_type="text/html",
                body=json.dumps({"error": "invalid_grant",
                                 "error_description": "Invalid refresh token"}))
    with pytest.raises(AuthorizationExpired):
        client.company_information()
    assert store.load() is None and store.expired


@pytest.mark.parametrize("exc", [requests.ConnectionError("refused"),
                                 requests.ReadTimeout("slow"), requests.ConnectTimeout("x")])
def test_network_errors_are_transient(mocked: responses.RequestsMock, client: FortnoxClient,
                                      exc: Exception) -> None:
    mocked.get(f"{API}/3/companyinformation", body=exc)
    with pytest.raises(TransientError) as info:
        client.company_information()
    assert info.value.status is None


def test_non_json_success_is_transient(mocked: responses.RequestsMock,
                                       client: FortnoxClient) -> None:
    mocked.get(f"{API}/3/companyinformation", body="<html>maintenance</html>")
    with pytest.raises(TransientError):
        client.company_information()


def test_other_4xx_is_a_plain_fortnox_error(mocked: responses.RequestsMock,
                                            client: FortnoxClient) -> None:
    mocked.get(f"{API}/3/companyinformation", status=405, body="")
    with pytest.raises(FortnoxError) as info:
        client.company_information()
    assert type(info.value) is FortnoxError and info.value.status == 405


def test_numbers_as_strings_and_decimals(mocked: responses.RequestsMock,
                                         client: FortnoxClient) -> None:
    # Shapes recorded from the real API (docs/fortnox.md, "Recorded answers").
    mocked.get(f"{API}/3/invoices/1037", body=json.dumps({"Invoice": {
        "DocumentNumber": "1037", "Credit": "false", "CurrencyRate": 1, "Total": 219,
        "RoundOff": 0.25, "TotalVAT": 43.8,
        "InvoiceRows": [{"DeliveredQuantity": "1.12", "Price": 950.5}]}}))
    invoice = client.get_invoice("1037")
    from aourly_fortnox.fortnox.client import to_bool, to_decimal, to_int, to_str

    assert invoice["RoundOff"] == Decimal("0.25") and isinstance(invoice["TotalVAT"], Decimal)
    assert invoice["TotalVAT"] == Decimal("43.8")
    assert to_decimal(invoice["InvoiceRows"][0]["DeliveredQuantity"]) == Decimal("1.12")
    assert to_decimal(invoice["Total"]) == Decimal(219)
    assert to_int(invoice["DocumentNumber"]) == 1037
    assert to_bool(invoice["Credit"]) is False
    assert to_str(invoice["CurrencyRate"]) == "1"


def _page(items: list[dict[str, Any]], page: int, pages: int, total: int) -> dict[str, Any]:
    return {"MetaInformation": {"@TotalResources": total, "@TotalPages": pages,
                                "@CurrentPage": page}, "Accounts": items}


def test_pagination_follows_total_pages(mocked: responses.RequestsMock,
                                        client: FortnoxClient) -> None:
    accounts = [{"Number": 1000 + i} for i in range(5)]
    mocked.get(f"{API}/3/accounts", json=_page(accounts[:2], 1, 3, 5),
               match=[matchers.query_param_matcher({"financialyear": "3", "limit": "2"})])
    mocked.get(f"{API}/3/accounts", json=_page(accounts[2:4], 2, 3, 5),
               match=[matchers.query_param_matcher({"financialyear": "3", "limit": "2",
                                                    "page": "2"})])
    mocked.get(f"{API}/3/accounts", json=_page(accounts[4:], 3, 3, 5),
               match=[matchers.query_param_matcher({"financialyear": "3", "limit": "2",
                                                    "page": "3"})])
    got = list(client.paginate("/3/accounts", "Accounts", params={"financialyear": 3},
                               page_size=2))
    assert got == accounts


def test_pagination_empty_result_has_zero_pages(mocked: responses.RequestsMock,
                                                client: FortnoxClient) -> None:
    call = mocked.get(f"{API}/3/financialyears", json={
        "MetaInformation": {"@TotalResources": 0, "@TotalPages": 0, "@CurrentPage": 1},
        "FinancialYears": []})
    assert client.financial_year_for("2031-01-01") is None
    assert call.call_count == 1
    assert "date=2031-01-01" in (call.calls[0].request.url or "")


def test_pagination_stops_if_current_page_never_moves(mocked: responses.RequestsMock,
                                                      client: FortnoxClient) -> None:
    call = mocked.get(f"{API}/3/accounts", json=_page([{"Number": 1}], 1, 3, 3))
    assert len(list(client.paginate("/3/accounts", "Accounts"))) == 3
    assert call.call_count == 3


def test_helpers_strip_envelopes(mocked: responses.RequestsMock, client: FortnoxClient) -> None:
    mocked.get(f"{API}/3/voucherseries", json={"VoucherSeriesCollection": [{"Code": "A"}]})
    mocked.get(f"{API}/3/predefinedaccounts",
               json={"PreDefinedAccounts": [{"Name": "CUSTCLAIM", "Account": 1510}]})
    mocked.get(f"{API}/3/settings/lockedperiod", json={"LockedPeriod": {"EndDate": ""}})
    mocked.put(f"{API}/3/invoices/12/bookkeep", json={"Invoice": {"Booked": True}})
    voucher = mocked.post(f"{API}/3/vouchers", status=201,
                          json={"Voucher": {"VoucherNumber": 58, "Year": 7}})
    mocked.get(f"{API}/3/vouchers/A/58", json={"Voucher": {"VoucherNumber": 58}},
               match=[matchers.query_param_matcher({"financialyear": "7"})])
    sub = mocked.get(f"{API}/3/vouchers/sublist/A", json={"Vouchers": [{"VoucherNumber": 1}]})
    assert client.voucher_series() == [{"Code": "A"}]
    assert client.predefined_accounts()[0]["Account"] == 1510
    assert client.locked_period() == {"EndDate": ""}
    assert client.bookkeep_invoice("12") == {"Booked": True}
    assert client.create_voucher({"VoucherSeries": "A"}, 7)["VoucherNumber"] == 58
    assert "financialyear=7" in (voucher.calls[0].request.url or "")
    assert client.get_voucher("A", 58, 7) == {"VoucherNumber": 58}
    assert list(client.vouchers(7, series="A", lastmodified="2025-03-01 12:30")) == [
        {"VoucherNumber": 1}]
    assert "lastmodified=2025-03-01+12%3A30" in (sub.calls[0].request.url or "")


def test_tokens_never_in_errors_or_logs(mocked: responses.RequestsMock, client: FortnoxClient,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    mocked.get(f"{API}/3/companyinformation", status=401, json={"message": "unauthorized"})
    mocked.post(f"{AUTH}/token", json=token_body("access-NEW-abcdef", "refresh-NEW-abcdef"))
    mocked.get(f"{API}/3/customers/1", status=500, body="oops")
    mocked.get(f"{API}/3/customers/2", body=requests.ConnectionError("refused"))
    errors: list[BaseException] = []
    for call in (client.company_information, lambda: client.get_customer("1"),
                 lambda: client.get_customer("2")):
        with pytest.raises(FortnoxError) as info:
            call()
        errors.append(info.value)
    text = caplog.text + "".join(str(e) + repr(e) + repr(e.args) for e in errors)
    text += repr(client) + repr(client.tokens) + repr(client.tokens.store)
    text += repr(client.tokens.oauth)
    assert "/3/companyinformation -> 401" in caplog.text
    for secret in ("access-OLD", "refresh-OLD", "access-NEW", "refresh-NEW", SECRET):
        assert secret not in text


def test_expired_connection_raises_before_any_request(mocked: responses.RequestsMock,
                                                      client: FortnoxClient) -> None:
    store = client.tokens.store
    assert isinstance(store, MemoryTokenStore)
    store.mark_expired("refresh-OLD-0123456789")
    with pytest.raises(AuthorizationExpired):
        client.company_information()
    assert len(mocked.calls) == 0


class RecordingLimiter:
    """Records the order of limiter and token calls."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def acquire(self, key: str) -> str:
        self.events.append(f"acquire:{key}")
        return f"ticket-{len(self.events)}"

    def finished(self, key: str, ticket: str) -> None:
        self.events.append(f"finished:{ticket}")

    def note_429(self, key: str, retry_after: float | None = None) -> None:
        self.events.append(f"429:{retry_after}")


def test_limiter_before_every_attempt_and_token_after_the_wait(
    mocked: responses.RequestsMock, manager: TokenManager
) -> None:
    events: list[str] = []
    original_access, original_force = manager.access_token, manager.force_refresh

    def access_token() -> str:
        events.append("token")
        return original_access()

    def force_refresh(rejected_access_token: str) -> str:
        events.append("force_refresh")
        return original_force(rejected_access_token)

    manager.access_token = access_token  # type: ignore[method-assign]
    manager.force_refresh = force_refresh  # type: ignore[method-assign]
    client = FortnoxClient(API, manager, limiter=RecordingLimiter(events), limiter_key="t")
    mocked.get(f"{API}/3/companyinformation", status=401, json={"message": "unauthorized"})
    mocked.post(f"{AUTH}/token", json=token_body("access-NEW", "refresh-NEW"))
    mocked.get(f"{API}/3/companyinformation", json={"CompanyInformation": {}},
               match=[matchers.header_matcher({"Authorization": "Bearer access-NEW"})])
    client.company_information()
    assert events == ["acquire:t", "token", "finished:ticket-1",
                      "acquire:t", "force_refresh", "finished:ticket-4"]


def test_failed_attempt_still_reports_finished(mocked: responses.RequestsMock,
                                               manager: TokenManager) -> None:
    events: list[str] = []
    client = FortnoxClient(API, manager, limiter=RecordingLimiter(events), limiter_key="t")
    mocked.get(f"{API}/3/companyinformation", body=requests.ConnectionError("reset"))
    with pytest.raises(TransientError):
        client.company_information()
    assert events == ["acquire:t", "finished:ticket-1"]
