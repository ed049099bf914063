"""The admin API under ``/_admin/`` for tests, benchmarks and checks (docs/sandbox.md).

No authentication (the server binds loopback only), never rate limited or counted. JSON in
and out; objects in Fortnox's envelopes and single-GET shapes. ``...`` below is
``/_admin/companies/<DatabaseNumber>``.

=========================================  ===================================================
``GET /_admin/companies``                  ``[{"DatabaseNumber", "CompanyName",
                                           "OrganizationNumber"}]``
``POST .../settings``                      ``{"locked": true}``: the company has no active
                                           licence: consent is refused (access_denied) and its
                                           ``/3/`` requests answer 400 code 2001103
``GET .../<resource>``                     every object of ``customers``, ``invoices``,
                                           ``vouchers``, ``accounts`` (every year),
                                           ``financialyears`` (also ``voucherseries``,
                                           ``predefinedaccounts``) as a JSON array
``POST .../accounts``                      ``{"Account": {...}}`` upsert by ``Number``; ``Year``
                                           (financial-year Id) limits it to one year, default
                                           every year. Answers ``{"Accounts": [...]}``
``POST .../customers``                     ``{"Customer": {...}}`` (Fortnox's rules) -> 201
``DELETE .../customers/<CustomerNumber>``  204; the number stays reserved
``POST .../vouchers[?financialyear=Id]``   ``{"Voucher": {...}}`` any series (a person may use
                                           B); without ``financialyear`` the year covering
                                           the date; balance, year, locked-period and account
                                           rules still apply -> 201
``POST .../financialyears``                ``{"FinancialYear": {"FromDate", "ToDate"}}``: the
                                           next Id, chart copied from the latest year -> 201
``PUT .../lockedperiod``                   ``{"LockedPeriod": {"EndDate": "YYYY-MM-DD"}}``
                                           (``""`` unlocks)
``POST .../invoices/<n>/bookkeep|cancel``  ``{"Invoice": {...}}``
``POST .../revoke``                        every consent of the company withdrawn
                                           ``{"revoked": <consents>}``
``GET|POST /_admin/faults``                see :mod:`faults`; ``{}`` resets
``POST /_admin/expire-tokens``             ``{"refresh": false}``
``GET|POST /_admin/settings``              ``access_ttl``, ``refresh_ttl``, ``code_ttl``,
                                           ``rate_limit`` ("25/5"), ``retry_after`` (or null),
                                           ``refresh_reuse_revokes`` (true/false)
``GET|DELETE /_admin/stats``               ``{"<client>/<db>": {"requests", "429", "5xx",
                                           "token"}}``; DELETE resets
``GET /_admin/refresh-tokens``             every refresh token issued, oldest first:
                                           ``[{"key": "<client>/<db>", "consent",
                                           "refresh_token", "uses", "state"}]`` (see
                                           :meth:`grants.Grants.refresh_tokens`)
=========================================  ===================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, request

from . import customers, errors, invoices, ledger, vouchers
from .faults import FaultConfigError
from .gate import sandbox
from .settings import SettingsError
from .store import Store
from .values import to_date

bp = Blueprint("fortnox_admin", __name__, url_prefix="/_admin")


def _ok(payload: Any, status: int = 200) -> Response:
    return errors.json_response(payload, status)


def _problem(message: str) -> Response:
    return errors.json_response({"error": message}, 400)


def _body() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise errors.bad_request(errors.JSON_SYNTAX, "Felaktig JSON-syntax.") from None
    if not isinstance(body, dict):
        raise errors.no_data()
    return body


def _envelope(name: str) -> dict[str, Any]:
    inner = _body().get(name)
    if not isinstance(inner, dict):
        raise errors.no_data(name)
    return inner


def _company(db: int) -> Store:
    store = sandbox().store
    if store.company(db) is None:
        raise errors.not_found(errors.RESOURCE_NOT_FOUND, f"Företaget {db} finns inte.")
    return store


def _base() -> str:
    return request.host_url.rstrip("/")


@bp.get("/companies")
def companies() -> Response:
    """Every seeded Fortnox company, to pick a DatabaseNumber for the other admin calls."""
    keys = ("DatabaseNumber", "CompanyName", "OrganizationNumber")
    return _ok([{key: info[key] for key in keys} for info in sandbox().store.companies()])


@bp.post("/companies/<int:db>/settings")
def company_settings(db: int) -> Response:
    """Lock a company as if its licence lapsed: consent is refused, its /3/ calls get 2001103."""
    store = _company(db)
    body = _body()
    if set(body) - {"locked"} or not isinstance(body.get("locked", False), bool):
        return _problem('only {"locked": true|false} can be set')
    settings = store.update_company_settings(db, body)
    return _ok({"locked": bool(settings.get("locked"))})


def _all_accounts(store: Store, db: int, base: str) -> list[dict[str, Any]]:
    result = []
    for year in ledger.years(store, db):
        moved = ledger.movements(store, db, year["Id"])
        result += [
            ledger.account_full(record.data, base, moved)
            for record in store.records(db, "account", year=year["Id"])
        ]
    return result


_LISTS: dict[str, tuple[str, Callable[[dict[str, Any], str], dict[str, Any]]]] = {
    "customers": ("customer", customers.customer_full),
    "invoices": ("invoice", invoices.invoice_full),
    "vouchers": ("voucher", vouchers.voucher_full),
    "financialyears": ("financialyear", ledger.year_full),
    "voucherseries": ("voucherseries", lambda item, base: dict(item)),
    "predefinedaccounts": ("predefined", lambda item, base: dict(item)),
}


@bp.get("/companies/<int:db>/<resource>")
def company_objects(db: int, resource: str) -> Response:
    """Every stored object of a resource (accounts of every year), unpaged: for assertions."""
    store, base = _company(db), _base()
    if resource == "accounts":
        return _ok(_all_accounts(store, db, base))
    if resource not in _LISTS:
        raise errors.not_found(errors.RESOURCE_NOT_FOUND, f"Okänd resurs {resource}.")
    kind, present = _LISTS[resource]
    return _ok([present(record.data, base) for record in store.records(db, kind)])


@bp.post("/companies/<int:db>/accounts")
def upsert_account(db: int) -> Response:
    """A person editing the chart: create or change an account by number, in one year or all."""
    store = _company(db)
    payload = _envelope("Account")
    year = payload.pop("Year", None)
    saved = ledger.upsert_account(store, db, payload, year)
    return _ok(
        {
            "Accounts": [
                ledger.account_full(a, _base(), ledger.movements(store, db, a["Year"]))
                for a in saved
            ]
        }
    )


@bp.post("/companies/<int:db>/customers")
def create_customer(db: int) -> Response:
    """A person adding a customer in Fortnox, under the same rules as ``POST /3/customers``."""
    store = _company(db)
    customer = customers.create_customer(store, db, _envelope("Customer"))
    return _ok({"Customer": customers.customer_full(customer, _base())}, 201)


@bp.delete("/companies/<int:db>/customers/<path:number>")
def delete_customer(db: int, number: str) -> Response:
    """A person deleting a customer; its number stays reserved (2000637 if used again)."""
    customers.delete_customer(_company(db), db, number)
    return Response(status=204)


@bp.post("/companies/<int:db>/vouchers")
def create_voucher(db: int) -> Response:
    """A person booking a voucher: any series, the year by its date; balance and lock rules hold."""
    store = _company(db)
    payload = _envelope("Voucher")
    financialyear = request.args.get("financialyear") or _year_of(store, db, payload)
    voucher = vouchers.create_voucher(store, db, payload, financialyear, manual_only=False)
    return _ok({"Voucher": vouchers.voucher_full(voucher, _base())}, 201)


def _year_of(store: Store, db: int, payload: dict[str, Any]) -> str | None:
    """A person picks the year the date belongs to (the API uses the preselected one)."""
    raw = payload.get("TransactionDate")
    if not isinstance(raw, str) or not raw:
        return None  # create_voucher refuses the missing date with its own code
    year = ledger.year_for_date(store, db, to_date(raw, "TransactionDate"))
    if year is None:
        raise errors.bad_request(
            errors.NO_FINANCIAL_YEAR, f"Det finns inget räkenskapsår för datumet {raw}."
        )
    return str(year["Id"])


@bp.post("/companies/<int:db>/financialyears")
def create_financial_year(db: int) -> Response:
    """A person opening the next financial year (often late); the latest year's chart is copied."""
    year = ledger.create_year(_company(db), db, _envelope("FinancialYear"))
    return _ok({"FinancialYear": ledger.year_full(year, _base())}, 201)


@bp.put("/companies/<int:db>/lockedperiod")
def set_locked_period(db: int) -> Response:
    """A person locking the books up to ``EndDate`` (an empty one unlocks); bookings in it fail."""
    period = ledger.set_locked_period(_company(db), db, _envelope("LockedPeriod"))
    return _ok({"LockedPeriod": period})


@bp.post("/companies/<int:db>/invoices/<number>/bookkeep")
def bookkeep_invoice(db: int, number: str) -> Response:
    """A person booking an invoice in Fortnox: a series B voucher, and the invoice is frozen."""
    invoice = invoices.bookkeep_invoice(_company(db), db, number)
    return _ok({"Invoice": invoices.invoice_full(invoice, _base())})


@bp.post("/companies/<int:db>/invoices/<number>/cancel")
def cancel_invoice(db: int, number: str) -> Response:
    """A person cancelling (makulera) an unbooked invoice: it stays, with balance 0."""
    invoice = invoices.cancel_invoice(_company(db), db, number)
    return _ok({"Invoice": invoices.invoice_full(invoice, _base())})


@bp.post("/companies/<int:db>/revoke")
def revoke_company(db: int) -> Response:
    """The company withdraws every consent: all tokens stop at once, unlike ``/oauth-v1/revoke``."""
    _company(db)
    return _ok({"revoked": sandbox().grants.revoke_company(db)})


@bp.route("/faults", methods=["GET", "POST"])
def faults() -> Response:
    """Read or set injected faults (5xx, 429 bursts, latency), seeded so a run repeats exactly."""
    state = sandbox()
    if request.method == "GET":
        return _ok(state.faults.snapshot())
    try:
        return _ok(state.faults.configure(_body()))
    except (FaultConfigError, TypeError, ValueError) as exc:
        return _problem(str(exc))


@bp.post("/expire-tokens")
def expire_tokens() -> Response:
    """Expire every access token (refresh tokens too if asked) now, instead of waiting an hour."""
    refresh = _body().get("refresh", False)
    if not isinstance(refresh, bool):
        return _problem("refresh must be true or false")
    return _ok(sandbox().grants.expire_all(refresh))


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> Response:
    """Read or change run-time settings: token lifetimes, rate limit, what a refresh reuse does."""
    state = sandbox()
    if request.method == "POST":
        try:
            state.settings.update(_body())
        except SettingsError as exc:
            return _problem(str(exc))
    return _ok(state.settings.runtime())


@bp.route("/stats", methods=["GET", "DELETE"])
def stats() -> Response:
    """Requests, 429s, 5xx and token calls per client and company; DELETE starts a new count."""
    state = sandbox()
    if request.method == "DELETE":
        state.stats.reset()
    return _ok(state.stats.snapshot())


@bp.get("/refresh-tokens")
def refresh_tokens() -> Response:
    """Every refresh token with its uses and state: shows whether a client ever sent one twice."""
    return _ok(sandbox().grants.refresh_tokens())
