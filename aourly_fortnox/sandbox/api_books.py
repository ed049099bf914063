"""Bookkeeping reads and voucher creation: vouchers, voucher series, accounts, financial
years, predefined accounts and the locked period.

Vouchers have only GET and POST; PUT or DELETE answers 405 (docs/fortnox.md, "Vouchers").
"""

from __future__ import annotations

from flask import Response, request

from . import errors, ledger, listing, vouchers
from .api_common import base_url, bp, ok, read_envelope, requires, tenant
from .values import to_date

YEAR_PARAMS = {"financialyear", "financialyeardate"}


def _vouchers(series: str | None) -> Response:
    store, db = tenant()
    args = request.args
    listing.check_params(args, {*YEAR_PARAMS, "fromdate", "todate"})
    year = ledger.resolve_year(store, db, args)
    records = listing.modified_since(store.records(db, "voucher", year=year["Id"]), args)
    items = [record.data for record in records]
    if series is not None:
        if ledger.series(store, db, series) is None:
            raise errors.not_found(
                errors.VOUCHER_SERIES_NOT_FOUND, f"Kan inte hitta verifikationsserien {series}."
            )
        items = [item for item in items if item["VoucherSeries"] == series]
    items = listing.date_range(items, args, "TransactionDate")
    base = base_url()
    return ok(
        listing.list_response("Vouchers", items, args, lambda v: vouchers.voucher_item(v, base))
    )


@bp.get("/vouchers")
@requires("bookkeeping")
def vouchers_list() -> Response:
    """``GET /3/vouchers``: one financial year's vouchers (``financialyear``), items lack rows."""
    return _vouchers(None)


@bp.get("/vouchers/sublist/<series>")
@requires("bookkeeping")
def vouchers_sublist(series: str) -> Response:
    """``GET /3/vouchers/sublist/<series>``: one series of one year; an unknown series is 404."""
    return _vouchers(series)


@bp.get("/vouchers/<series>/<int:number>")
@requires("bookkeeping")
def vouchers_get(series: str, number: int) -> Response:
    """``GET /3/vouchers/<series>/<n>`` with rows; numbers restart yearly: ``financialyear``."""
    store, db = tenant()
    listing.check_params(request.args, YEAR_PARAMS)
    year = ledger.resolve_year(store, db, request.args)
    voucher = vouchers.get_voucher(store, db, series, number, year["Id"])
    return ok({"Voucher": vouchers.voucher_full(voucher, base_url())})


@bp.post("/vouchers")
@requires("bookkeeping")
def vouchers_create() -> Response:
    """``POST /3/vouchers``: manual series only; no PUT or DELETE exist: a mistake stays booked."""
    store, db = tenant()
    listing.check_params(request.args, YEAR_PARAMS)
    financialyear = request.args.get("financialyear")
    if not financialyear and request.args.get("financialyeardate"):
        financialyear = str(ledger.resolve_year(store, db, request.args)["Id"])
    voucher = vouchers.create_voucher(store, db, read_envelope("Voucher"), financialyear)
    return ok({"Voucher": vouchers.voucher_full(voucher, base_url())}, 201, "vouchers")


@bp.get("/voucherseries")
@requires("bookkeeping")
def voucher_series_list() -> Response:
    """``GET /3/voucherseries``: ``Manual`` tells which series take vouchers sent by the API."""
    store, db = tenant()
    listing.check_params(request.args, YEAR_PARAMS)
    year = ledger.resolve_year(store, db, request.args)
    items = [record.data for record in store.records(db, "voucherseries")]
    base = base_url()
    return ok(
        listing.list_response(
            "VoucherSeriesCollection",
            items,
            request.args,
            lambda item: ledger.series_item(item, year["Id"], base),
        )  # fmt: skip
    )


@bp.get("/voucherseries/<code>")
@requires("bookkeeping")
def voucher_series_get(code: str) -> Response:
    """``GET /3/voucherseries/<code>``: adds the number the series hands out next in that year."""
    store, db = tenant()
    listing.check_params(request.args, YEAR_PARAMS)
    year = ledger.resolve_year(store, db, request.args)
    found = ledger.series(store, db, code)
    if found is None:
        raise errors.not_found(
            errors.VOUCHER_SERIES_NOT_FOUND, f"Kan inte hitta verifikationsserien {code}."
        )
    item = ledger.series_item(found, year["Id"], base_url())
    item["NextVoucherNumber"] = store.peek_value(db, f"voucher:{year['Id']}:{code}")
    return ok({"VoucherSeries": item})


@bp.get("/accounts")
@requires("bookkeeping")
def accounts_list() -> Response:
    """``GET /3/accounts``: one year's chart (charts are per financial year), ``sru`` filters."""
    store, db = tenant()
    args = request.args
    listing.check_params(args, {*YEAR_PARAMS, "sru"})
    year = ledger.resolve_year(store, db, args)
    records = listing.modified_since(store.records(db, "account", year=year["Id"]), args)
    items = [record.data for record in records]
    if args.get("sru"):
        items = [item for item in items if str(item.get("SRU") or "") == args["sru"]]
    base = base_url()
    return ok(
        listing.list_response("Accounts", items, args, lambda a: ledger.account_item(a, base))
    )


@bp.get("/accounts/<int:number>")
@requires("bookkeeping")
def accounts_get(number: int) -> Response:
    """``GET /3/accounts/<n>`` in one year's chart; carried-forward balance from its vouchers."""
    store, db = tenant()
    listing.check_params(request.args, YEAR_PARAMS)
    year = ledger.resolve_year(store, db, request.args)
    found = ledger.account(store, db, year["Id"], number)
    if found is None:
        raise errors.not_found(errors.ACCOUNT_NOT_FOUND, "Kan inte hitta kontot.")
    moved = ledger.movements(store, db, year["Id"])
    return ok({"Account": ledger.account_full(found, base_url(), moved)})


@bp.get("/accountcharts")
@requires("bookkeeping")
def account_charts() -> Response:
    """``GET /3/accountcharts``: the chart types the company's years use (``Bas 2024``)."""
    store, db = tenant()
    names = sorted({year["AccountChartType"] for year in ledger.years(store, db)})
    items = [{"Name": name, "Description": name} for name in names]
    return ok(listing.list_response("AccountCharts", items, request.args, dict))


@bp.get("/financialyears")
@requires("bookkeeping")
def financial_years_list() -> Response:
    """``GET /3/financialyears``: its filter is ``date``, not ``financialyeardate`` as elsewhere."""
    store, db = tenant()
    args = request.args
    listing.check_params(args, {"date"})
    records = listing.modified_since(store.records(db, "financialyear"), args)
    items = [record.data for record in records]
    if args.get("date"):
        # Note the parameter is `date`, not `financialyeardate` (docs/fortnox.md, "Search").
        day = to_date(args["date"], "date").isoformat()
        items = [year for year in items if year["FromDate"] <= day <= year["ToDate"]]
    base = base_url()
    return ok(
        listing.list_response("FinancialYears", items, args, lambda y: ledger.year_item(y, base))
    )


@bp.get("/financialyears/<int:year_id>")
@requires("bookkeeping")
def financial_years_get(year_id: int) -> Response:
    """``GET /3/financialyears/<id>``: ``AccountChartType``, where lists say ``accountCharts``."""
    store, db = tenant()
    found = ledger.year_by_id(store, db, year_id)
    if found is None:
        raise errors.not_found(errors.FINANCIAL_YEAR_NOT_FOUND, "Kan inte hitta räkenskapsåret.")
    return ok({"FinancialYear": ledger.year_full(found, base_url())})


@bp.get("/predefinedaccounts")
@requires("settings")
def predefined_list() -> Response:
    """``GET /3/predefinedaccounts`` (``settings`` scope): CUSTCLAIM, OUTVAT_MP1, ROUNDOFF..."""
    store, db = tenant()
    listing.check_params(request.args, set())
    items = [record.data for record in store.records(db, "predefined")]
    base = base_url()
    return ok(
        listing.list_response(
            "PreDefinedAccounts",
            items,
            request.args,
            lambda p: {"@url": f"{base}/3/predefinedaccounts/{p['Name']}", **p},
        )  # fmt: skip
    )


@bp.get("/predefinedaccounts/<name>")
@requires("settings")
def predefined_get(name: str) -> Response:
    """``GET /3/predefinedaccounts/<name>``: the account the company uses for that role."""
    store, db = tenant()
    found = store.get(db, "predefined", name)
    if found is None:
        raise errors.not_found(errors.PREDEFINED_NOT_FOUND, "Kan inte hitta det förvalda kontot.")
    return ok({"PreDefinedAccount": {"@url": f"{base_url()}/3/predefinedaccounts/{name}", **found}})


@bp.get("/settings/lockedperiod")
@requires("settings")
def locked_period() -> Response:
    """``GET /3/settings/lockedperiod``: bookings dated on or before ``EndDate`` are refused."""
    store, db = tenant()
    return ok({"LockedPeriod": {"EndDate": ledger.locked_until(store, db)}})
