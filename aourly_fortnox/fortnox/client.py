"""The only code that speaks HTTP to Fortnox's REST API (``/3/...``).

Every attempt waits on the tenant's rate limiter first, then takes a bearer token from the
:class:`~aourly_fortnox.tokens.TokenManager` (so a long wait never sends an expired one), and
tells the limiter when the answer arrived (see :mod:`aourly_fortnox.ratelimit` for why). A 401
gets one forced refresh and one retry.
Nothing else is retried here: 5xx, 429 and network failures become typed errors and the sync
layer owns retries (docs/architecture.md, "Retries have one owner"). JSON numbers are read as
``Decimal`` so amounts never pass through binary floats.

Logging (``aourly_fortnox.client``) records method, path, status and duration only: no
tokens, no query strings, no bodies.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests

from .errors import FortnoxError, TransientError, error_for_response
from .parsing import to_bool, to_decimal, to_int, to_str
from .ratelimit import RateLimiter
from .tokens import TokenManager

__all__ = ["FortnoxClient", "to_bool", "to_decimal", "to_int", "to_str"]

log = logging.getLogger("aourly_fortnox.client")

JsonDict = dict[str, Any]
Params = Mapping[str, Any]

# Fortnox's maximum page size (docs/fortnox.md, "Lists"); its default is only 100.
MAX_PAGE_SIZE = 500

_TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A JSON number; repr(float) is the shortest round trip, so 950.50 goes as 950.5.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} to Fortnox")


def _param_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # lastmodified takes "YYYY-MM-DD HH:MM" (docs/fortnox.md, "Formats").
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


def _wrap(envelope: str, payload: Mapping[str, Any]) -> JsonDict:
    """Requests use the single-object envelope (5.1); accept a payload already wrapped."""
    if len(payload) == 1 and envelope in payload:
        return dict(payload)
    return {envelope: dict(payload)}


class FortnoxClient:
    """Fortnox REST for one connection. Not thread-safe if ``session`` is shared."""

    def __init__(
        self,
        api_url: str,
        tokens: TokenManager,
        *,
        limiter: RateLimiter | None = None,
        limiter_key: str = "default",
        timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.tokens = tokens
        self.limiter = limiter
        self.limiter_key = limiter_key
        self.timeout = timeout
        self.session = session or requests.Session()

    def __repr__(self) -> str:
        """Names the client in logs without its tokens."""
        return f"FortnoxClient(api_url={self.api_url!r}, limiter_key={self.limiter_key!r})"

    # -- the core ----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
    ) -> JsonDict:
        """One Fortnox call; the parsed JSON body (``{}`` for an empty answer).

        Raises NotFound (404), ValidationFailed/PermissionDenied (400, 403, scope/licence
        codes), Unauthorized (401 twice), RateLimited (429), TransientError (5xx, timeouts,
        connection failures), AuthorizationExpired (refresh refused), FortnoxError otherwise.
        """
        method = method.upper()
        if not path.startswith("/"):
            path = "/" + path
        body = None if json is None else _dumps(json)
        query = {k: _param_value(v) for k, v in (params or {}).items() if v is not None}
        response, used_token = self._send(method, path, query, body)
        if response.status_code == 401:
            # An expired or revoked access token is 401 {"message":"unauthorized"} (4.1,
            # gotcha 3): refresh once (unless another worker already did) and try again.
            response, _ = self._send(method, path, query, body, rejected_token=used_token)
            if response.status_code == 401:
                raise error_for_response(401, response.content)
        if response.status_code >= 400:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if response.status_code == 429 and self.limiter is not None:
                # Every worker of this tenant pauses, not just this one.
                self.limiter.note_429(self.limiter_key, retry_after)
            raise error_for_response(response.status_code, response.content,
                                     retry_after=retry_after)
        return self._parse(response, method, path)

    def _send(
        self, method: str, path: str, query: Params, body: bytes | None,
        rejected_token: str | None = None,
    ) -> tuple[requests.Response, str]:
        """One attempt: wait for the limiter, *then* take a token (a long wait must not send
        a token that expired meanwhile), send, report the answer to the limiter."""
        ticket = self.limiter.acquire(self.limiter_key) if self.limiter is not None else None
        started = time.monotonic()
        try:
            if rejected_token is None:
                access_token = self.tokens.access_token()
            else:
                access_token = self.tokens.force_refresh(rejected_token)
            headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            started = time.monotonic()
            response = self.session.request(
                method, self.api_url + path, params=query, data=body, headers=headers,
                timeout=self.timeout,
            )
        except _TRANSIENT_EXCEPTIONS as exc:
            elapsed = (time.monotonic() - started) * 1000
            log.warning("%s %s failed after %.0f ms: %s", method, path, elapsed,
                        type(exc).__name__)
            raise TransientError(
                reason=f"Fortnox could not be reached ({type(exc).__name__})."
            ) from None
        except requests.RequestException as exc:
            raise FortnoxError(
                reason=f"The request to Fortnox could not be made ({type(exc).__name__})."
            ) from None
        finally:
            if self.limiter is not None and ticket is not None:
                # Fortnox counted it on arrival, before now: see ratelimit's docstring.
                self.limiter.finished(self.limiter_key, ticket)
        elapsed = (time.monotonic() - started) * 1000
        level = logging.DEBUG if response.status_code < 400 else logging.INFO
        log.log(level, "%s %s -> %s in %.0f ms", method, path, response.status_code, elapsed)
        return response, access_token

    @staticmethod
    def _parse(response: requests.Response, method: str, path: str) -> JsonDict:
        if not response.content.strip():
            return {}
        try:
            data = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            # A 2xx that is not JSON: a proxy or an outage page (4.1), not Fortnox's answer.
            raise TransientError(
                reason="Fortnox sent an answer that could not be read.",
                status=response.status_code,
            ) from None
        if not isinstance(data, dict):
            raise FortnoxError(
                reason=f"Fortnox answered {method} {path} with something other than an object.",
                status=response.status_code,
            )
        return data

    def paginate(
        self,
        path: str,
        collection: str,
        *,
        params: Params | None = None,
        page_size: int | None = MAX_PAGE_SIZE,
    ) -> Iterator[JsonDict]:
        """Every item of a list resource, page by page (``page``/``limit``, 5.2).

        Follows ``MetaInformation`` ``@TotalPages``; an empty result has ``@TotalPages: 0``
        (13). A list without MetaInformation is one page. ``page_size=None`` sends no
        ``limit`` (for lists that are not paged).
        """
        base = dict(params or {})
        if page_size is not None:
            base["limit"] = min(page_size, MAX_PAGE_SIZE)
        page = 1
        while True:
            query = dict(base)
            if page > 1:
                query["page"] = page
            data = self.request("GET", path, params=query)
            items = data.get(collection) or []
            yield from items
            meta = data.get("MetaInformation")
            if not isinstance(meta, dict):
                return
            total_pages = to_int(meta.get("@TotalPages")) or 0
            current = to_int(meta.get("@CurrentPage")) or page
            # Our own counter moves on even if @CurrentPage does not: no endless loop.
            if max(current, page) >= total_pages or not items:
                return
            page += 1

    def _get_one(self, path: str, envelope: str, params: Params | None = None) -> JsonDict:
        data = self.request("GET", path, params=params)
        return dict(data.get(envelope) or {})

    def _write_one(
        self, method: str, path: str, envelope: str, payload: Mapping[str, Any] | None,
        params: Params | None = None,
    ) -> JsonDict:
        body = None if payload is None else _wrap(envelope, payload)
        data = self.request(method, path, params=params, json=body)
        return dict(data.get(envelope) or {})

    # -- company and bookkeeping settings -----------------------------------------------------
    def company_information(self) -> JsonDict:
        """``CompanyInformation``: ``CompanyName``, ``OrganizationNumber`` (with z),
        ``DatabaseNumber`` (the Fortnox tenant id)."""
        return self._get_one("/3/companyinformation", "CompanyInformation")

    def financial_years(self) -> list[JsonDict]:
        """Every financial year (``Id``, ``FromDate``, ``ToDate``, ...)."""
        return list(self.paginate("/3/financialyears", "FinancialYears"))

    def financial_year_for(self, day: date | str) -> JsonDict | None:
        """The financial year covering ``day``, or None if the company has none (gotcha 11)."""
        # This filter is ``date``, not ``financialyeardate`` (5.3).
        years = list(self.paginate("/3/financialyears", "FinancialYears",
                                   params={"date": day}))
        return years[0] if years else None

    def accounts(self, financial_year_id: int) -> list[JsonDict]:
        """The chart of accounts of one financial year (charts are per year, 6.5)."""
        return list(self.paginate("/3/accounts", "Accounts",
                                  params={"financialyear": financial_year_id}))

    def predefined_accounts(self) -> list[JsonDict]:
        """``PreDefinedAccounts``: ``[{"Name": "CUSTCLAIM", "Account": 1510}, ...]`` (6.7)."""
        return list(self.paginate("/3/predefinedaccounts", "PreDefinedAccounts",
                                  page_size=None))

    def voucher_series(self) -> list[JsonDict]:
        """Voucher series; the list key is ``VoucherSeriesCollection`` (6.4)."""
        return list(self.paginate("/3/voucherseries", "VoucherSeriesCollection",
                                  page_size=None))

    def locked_period(self) -> JsonDict:
        """``LockedPeriod``; no ``EndDate`` means nothing is locked (6.3)."""
        return self._get_one("/3/settings/lockedperiod", "LockedPeriod")

    # -- customers ----------------------------------------------------------------------------
    def find_customers(self, **filters: Any) -> list[JsonDict]:
        """Customers matching Fortnox's filters. Searches are *contains* matches (gotcha 9):
        compare what comes back exactly."""
        return list(self.paginate("/3/customers", "Customers", params=filters))

    def get_customer(self, number: str) -> JsonDict:
        """One customer (NotFound if absent)."""
        return self._get_one(f"/3/customers/{_segment(number)}", "Customer")

    def create_customer(self, payload: Mapping[str, Any]) -> JsonDict:
        """Create a customer; ``payload`` is the inner ``Customer`` object."""
        return self._write_one("POST", "/3/customers", "Customer", payload)

    def update_customer(self, number: str, payload: Mapping[str, Any]) -> JsonDict:
        """Update a customer (partial: only the fields given)."""
        return self._write_one("PUT", f"/3/customers/{_segment(number)}", "Customer", payload)

    # -- invoices -----------------------------------------------------------------------------
    def find_invoices(self, **filters: Any) -> list[JsonDict]:
        """Invoices matching Fortnox's filters (e.g. ``externalinvoicereference1=``, a
        contains match). List items have no rows."""
        return list(self.paginate("/3/invoices", "Invoices", params=filters))

    def get_invoice(self, document_number: str) -> JsonDict:
        """One invoice with its rows (NotFound if absent)."""
        return self._get_one(f"/3/invoices/{_segment(document_number)}", "Invoice")

    def create_invoice(self, payload: Mapping[str, Any]) -> JsonDict:
        """Create an invoice; the customer must exist first (gotcha 7)."""
        return self._write_one("POST", "/3/invoices", "Invoice", payload)

    def update_invoice(self, document_number: str, payload: Mapping[str, Any]) -> JsonDict:
        """Change an invoice Fortnox has neither booked nor cancelled (else it refuses)."""
        return self._write_one(
            "PUT", f"/3/invoices/{_segment(document_number)}", "Invoice", payload
        )

    def bookkeep_invoice(self, document_number: str) -> JsonDict:
        """Bookkeep an invoice (creates its sales voucher)."""
        return self._write_one(
            "PUT", f"/3/invoices/{_segment(document_number)}/bookkeep", "Invoice", None
        )

    # -- vouchers -----------------------------------------------------------------------------
    def vouchers(
        self,
        financial_year_id: int,
        series: str | None = None,
        lastmodified: datetime | str | None = None,
        **filters: Any,
    ) -> Iterator[JsonDict]:
        """Voucher list items (no rows, 6.3) of one financial year, optionally one series.

        Extra ``filters`` (``fromdate``, ``todate``) pass through.
        """
        path = f"/3/vouchers/sublist/{_segment(series)}" if series else "/3/vouchers"
        params = {"financialyear": financial_year_id, "lastmodified": lastmodified, **filters}
        return self.paginate(path, "Vouchers", params=params)

    def get_voucher(self, series: str, number: int, financial_year_id: int) -> JsonDict:
        """One voucher with its rows; identity is (series, number, year) (gotcha 12)."""
        return self._get_one(
            f"/3/vouchers/{_segment(series)}/{_segment(number)}", "Voucher",
            params={"financialyear": financial_year_id},
        )

    def create_voucher(self, payload: Mapping[str, Any], financial_year_id: int) -> JsonDict:
        """Create a voucher in a manual series (immutable afterwards, gotcha 10)."""
        return self._write_one("POST", "/3/vouchers", "Voucher", payload,
                               params={"financialyear": financial_year_id})


def _dumps(payload: Any) -> bytes:
    # UTF-8 bytes: a str body would go out as Latin-1 and break anything beyond it.
    return json.dumps(payload, default=_json_default, ensure_ascii=False).encode("utf-8")
