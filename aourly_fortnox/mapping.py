"""Account mapping: which Fortnox account each of our keys books to, and whether it is valid.

Rules (docs/fortnox.md, "Mapping"):
- keys are fixed (plus the host's own); prefilled from Fortnox's predefined accounts where the
  company has them, else from BAS; every prefilled key is *suggested* until the owner saves;
- validated against the financial year that covers today (errors block saving: the account
  must exist there, be active, and where the chart gives a VAT code it must fit the key), and
  warned per other imported year where the account is missing or inactive;
- invoice rows carry only a sales account: output VAT and receivables for invoices come from
  Fortnox's predefined accounts, shown read-only with a warning where they differ from BAS
  or from our ``receivables`` key (used for vouchers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .i18n import N_, ngettext
from .i18n import gettext as _
from .models import (
    Account,
    AccountMapping,
    FinancialYear,
    PredefinedAccount,
    VoucherSeries,
    utcnow,
)
from .queries import get_connection, session
from .reasons import Problem, Reason
from .state import state


@dataclass(frozen=True)
class KeySpec:
    """One mapping key: its label, BAS default, and what a fitting account looks like."""

    key: str
    label: str
    bas_default: int | None
    predefined: tuple[str, ...] = ()
    vat_codes: tuple[str, ...] = ()  # acceptable VAT codes where the chart gives one
    expected_range: tuple[int, int] | None = None  # outside it: a warning, not an error
    help: str = ""


SALES = (3000, 3999)
BUILTIN_KEYS: tuple[KeySpec, ...] = (
    KeySpec("sales_25", N_("Sales 25 %"), 3001, ("SALES_25_SE", "SALES"), ("MP1",), SALES,
            N_("Domestic sales with 25 % VAT.")),
    KeySpec("sales_12", N_("Sales 12 %"), 3002, ("SALES_12_SE",), ("MP2",), SALES,
            N_("Domestic sales with 12 % VAT.")),
    KeySpec("sales_6", N_("Sales 6 %"), 3003, ("SALES_6_SE",), ("MP3",), SALES,
            N_("Domestic sales with 6 % VAT.")),
    KeySpec("sales_0", N_("Sales 0 % / exempt"), 3004, ("SALES_0_SE",), ("MF", "MP0"), SALES,
            N_("Domestic sales without VAT.")),
    KeySpec("sales_eu", N_("Sales EU (reverse charge)"), 3108, ("SALESEUREV",), (), SALES,
            N_("Sales to businesses in other EU countries; the buyer accounts for VAT.")),
    KeySpec("sales_export", N_("Sales export"), 3105, ("SALESEXPORT",), (), SALES,
            N_("Sales to customers outside the EU.")),
    KeySpec("bank", N_("Bank"), 1930, ("BG",), (), (1900, 1999),
            N_("Where payouts are paid from.")),
    KeySpec("receivables", N_("Accounts receivable"), 1510, ("CUSTCLAIM",), (), (1500, 1599),
            N_("Customer receivables on vouchers.")),
    KeySpec("rounding", N_("Rounding (öresavrundning)"), 3740, ("ROUNDOFF",), (), (3000, 8999),
            N_("Rounding of invoice totals to whole kronor.")),
)

#: The voucher series a company starts with (Fortnox's "Redovisning", manual by default).
DEFAULT_VOUCHER_SERIES = "A"

#: Fortnox's own predefined accounts that invoices use whatever we map (shown read-only).
READ_ONLY_PREDEFINED: tuple[tuple[str, str, int], ...] = (
    ("OUTVAT_MP1", N_("Output VAT 25 %"), 2611),
    ("OUTVAT_MP2", N_("Output VAT 12 %"), 2621),
    ("OUTVAT_MP3", N_("Output VAT 6 %"), 2631),
    ("CUSTCLAIM", N_("Accounts receivable on invoices"), 1510),
)


def key_specs() -> list[KeySpec]:
    """Built-in keys followed by the host's own (``register_mapping_key``)."""
    specs = list(BUILTIN_KEYS)
    for info in state().ext.host_mapping_keys.values():
        specs.append(KeySpec(info.key, info.text(), info.default_account))
    return specs


def today(tz: str | None = None) -> date:
    """Today in the company's time zone: the financial year is chosen by the company's date."""
    return datetime.now(ZoneInfo(tz or state().settings.timezone)).date()


# -- reading the imported chart ------------------------------------------------------------
@dataclass(frozen=True)
class ChartYear:
    """An imported financial year (plain values: they outlive the session's commit)."""

    fortnox_id: int
    from_date: date
    to_date: date


@dataclass(frozen=True)
class ChartAccount:
    """An account of one imported year, as the mapping checks it."""

    number: int
    description: str
    active: bool
    vat_code: str | None


@dataclass
class Chart:
    """The imported chart of one Fortnox company, per financial year."""

    database_number: int | None
    years: list[ChartYear]
    current_year: ChartYear | None
    accounts: dict[int, dict[int, ChartAccount]]  # fortnox year id -> number -> account
    predefined: dict[str, int]
    #: Imported voucher series: code -> (description, manual).
    series: dict[str, tuple[str, bool]] = field(default_factory=dict)

    def current_accounts(self) -> dict[int, ChartAccount]:
        """The accounts of the financial year that covers today."""
        if self.current_year is None:
            return {}
        return self.accounts.get(self.current_year.fortnox_id, {})


def load_chart(company_id: str) -> Chart:
    """Every imported year, account and predefined account of the current Fortnox company."""
    conn = get_connection(company_id)
    db_number = conn.database_number if conn else None
    if db_number is None:
        return Chart(None, [], None, {}, {})
    db_session = session()
    years = [
        ChartYear(*row)
        for row in db_session.execute(
            select(FinancialYear.fortnox_id, FinancialYear.from_date, FinancialYear.to_date)
            .where(FinancialYear.company_id == company_id,
                   FinancialYear.database_number == db_number)
            .order_by(FinancialYear.from_date)
        )
    ]
    now = today()
    current = next((y for y in years if y.from_date <= now <= y.to_date), None)
    accounts: dict[int, dict[int, ChartAccount]] = {}
    for year, number, description, active, vat_code in db_session.execute(
        select(Account.financial_year, Account.number, Account.description, Account.active,
               Account.vat_code)
        .where(Account.company_id == company_id, Account.database_number == db_number)
    ):
        accounts.setdefault(year, {})[number] = ChartAccount(number, description, active, vat_code)
    predefined = {
        p.name: p.account
        for p in db_session.execute(
            select(PredefinedAccount).where(PredefinedAccount.company_id == company_id,
                                            PredefinedAccount.database_number == db_number)
        ).scalars()
    }
    series = {
        code: (description, manual)
        for code, description, manual in db_session.execute(
            select(VoucherSeries.code, VoucherSeries.description, VoucherSeries.manual)
            .where(VoucherSeries.company_id == company_id,
                   VoucherSeries.database_number == db_number)
            .order_by(VoucherSeries.code)
        )
    }
    return Chart(db_number, years, current, accounts, predefined, series)


# -- validation --------------------------------------------------------------------------
@dataclass
class FieldCheck:
    """One key's value checked against the chart: errors block saving, warnings do not."""

    key: str
    label: str
    value: str
    account: ChartAccount | None = None
    suggested: bool = False
    help: str = ""
    #: An account that fits this key (its BAS default), shown as the empty field's example.
    example: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[Reason] = field(default_factory=list)


#: An account number as Fortnox has them: exactly four ASCII digits.
ACCOUNT_NUMBER = re.compile(r"[0-9]{4}")
#: At most this many characters of a refused value are shown back to the owner.
ECHO_LIMIT = 20


def _year_label(year: ChartYear) -> str:
    return f"{year.from_date.isoformat()} – {year.to_date.isoformat()}"


def check_value(spec: KeySpec, raw: str, chart: Chart) -> FieldCheck:
    """Check one key's account against the chart. Empty means "not mapped" (no error)."""
    value = (raw or "").strip()
    label = _(spec.label)
    result = FieldCheck(spec.key, label, value, help=_(spec.help) if spec.help else "",
                        example=str(spec.bas_default) if spec.bas_default else "")
    if not value:
        return result
    if not ACCOUNT_NUMBER.fullmatch(value):
        # Only 0-9: str.isdigit() also takes "３００１", "٣٠٠١" and "3²01" (int() of the last
        # raises). The value echoed back is cut, so a forged 1 MB field stays a short message.
        shown = value if len(value) <= ECHO_LIMIT else value[:ECHO_LIMIT] + "…"
        result.value = shown
        result.errors.append(
            _("“%(value)s” is not an account number (four digits 0-9, e.g. 3001).",
              value=shown)
        )
        return result
    number = int(value)
    if chart.current_year is None:
        result.errors.append(
            _("No imported financial year covers today: refresh the chart after creating the "
              "year in Fortnox.")
        )
        return result
    account = chart.current_accounts().get(number)
    year = _year_label(chart.current_year)
    if account is None:
        result.errors.append(
            _("Account %(number)s does not exist in the chart for %(year)s.",
              number=number, year=year)
        )
        return result
    result.account = account
    if not account.active:
        result.errors.append(
            _("Account %(number)s (%(name)s) is inactive in %(year)s.",
              number=number, name=account.description, year=year)
        )
    if spec.vat_codes and account.vat_code and account.vat_code not in spec.vat_codes:
        result.errors.append(
            _("Account %(number)s has VAT code %(code)s, which does not fit %(label)s "
              "(expected %(expected)s).", number=number, code=account.vat_code, label=label,
              expected=_(" or ").join(spec.vat_codes))
        )
    if spec.expected_range and not spec.expected_range[0] <= number <= spec.expected_range[1]:
        low, high = spec.expected_range
        result.warnings.append(
            Reason("MAPPING_RANGE", {"label": spec.label, "low": low, "high": high})
        )
    for other in chart.years:
        if other is chart.current_year:
            continue
        other_account = chart.accounts.get(other.fortnox_id, {}).get(number)
        if other_account is None:
            result.warnings.append(
                Reason("ACCOUNT_MISSING_IN_YEAR", {"number": number, "year": _year_label(other)})
            )
        elif not other_account.active:
            result.warnings.append(
                Reason("ACCOUNT_INACTIVE_IN_YEAR", {"number": number, "year": _year_label(other)})
            )
    return result


def stored_mappings(company_id: str) -> dict[str, AccountMapping]:
    """The company's saved and suggested mappings by key."""
    return {
        m.key: m
        for m in session().execute(
            select(AccountMapping).where(AccountMapping.company_id == company_id)
        ).scalars()
    }


def check_field(company_id: str, key: str, raw: str) -> FieldCheck:
    """Inline validation of one field (htmx, as the owner picks an account)."""
    spec = next((s for s in key_specs() if s.key == key), None)
    if spec is None:
        return FieldCheck(key, key, raw, errors=[_("Unknown mapping key.")])
    return check_value(spec, raw, load_chart(company_id))


# -- the page --------------------------------------------------------------------------
@dataclass
class PredefinedRow:
    """One of Fortnox's own predefined accounts, shown read-only beside our mapping."""

    name: str
    label: str
    account: int | None
    warning: str | None


@dataclass
class MappingView:
    """The whole mapping checked against one chart: what the page and the card show."""

    fields: list[FieldCheck]
    chart: Chart
    predefined: list[PredefinedRow]
    bookkeep_invoices: bool
    connected: bool
    #: The series our vouchers go into, and why it cannot be used (None: it can).
    voucher_series: str = DEFAULT_VOUCHER_SERIES
    voucher_series_error: str | None = None

    @property
    def manual_series(self) -> list[tuple[str, str]]:
        """The imported manual series (code, description): the only ones that take vouchers
        sent through the API (docs/fortnox.md, "Vouchers")."""
        return [(code, description) for code, (description, manual)
                in self.chart.series.items() if manual]

    @property
    def accounts(self) -> list[ChartAccount]:
        """The current year's chart in number order: the choices of the page's account picker."""
        return sorted(self.chart.current_accounts().values(), key=lambda a: a.number)

    @property
    def missing(self) -> list[FieldCheck]:
        """Keys without an account: pushes that need them stop (ACCOUNT_UNMAPPED)."""
        return [f for f in self.fields if not f.value]

    @property
    def invalid(self) -> list[FieldCheck]:
        """Keys whose account the current year's chart refuses: the form is not saved."""
        return [f for f in self.fields if f.errors]

    @property
    def suggested(self) -> list[FieldCheck]:
        """Our prefilled accounts the owner has not saved yet: the card asks for a review."""
        return [f for f in self.fields if f.value and f.suggested]

    @property
    def warnings(self) -> list[Reason]:
        """Doubts that do not block saving: an odd range, or a problem in another imported year."""
        return [w for f in self.fields for w in f.warnings]

    @property
    def complete(self) -> bool:
        """Every key mapped to a valid account: what "Mapping complete" on the card means."""
        return not self.missing and not self.invalid



def check_voucher_series(code: str, chart: Chart) -> str | None:
    """Why ``code`` cannot take our vouchers (None: it can). Only checked against an imported
    chart: before the first import there is nothing to check against."""
    if not chart.series:
        return None
    found = chart.series.get(code)
    if found is None:
        return _("Voucher series %(series)s does not exist in Fortnox.", series=code)
    if not found[1]:
        return _("Voucher series %(series)s is not a manual series in Fortnox, so it does not "
                 "take vouchers sent by %(product)s.", series=code)
    return None


def build_view(
    company_id: str, values: Mapping[str, str] | None = None, chart: Chart | None = None
) -> MappingView:
    """The mapping as stored (or as just submitted, when ``values`` is given), checked.

    Pass ``chart`` when one is already loaded: a save checks and re-shows with one load."""
    chart = chart if chart is not None else load_chart(company_id)
    stored = stored_mappings(company_id)
    fields = []
    for spec in key_specs():
        mapping = stored.get(spec.key)
        if values is not None:
            raw = values.get(spec.key, "")
            # A refused save shows the form again: an account still the one we suggested
            # keeps its "suggested" tag (the owner has not confirmed it yet).
            suggested = bool(mapping and not mapping.confirmed
                             and (raw or "").strip() == str(mapping.account))
        else:
            raw = str(mapping.account) if mapping else ""
            suggested = bool(mapping and not mapping.confirmed)
        check = check_value(spec, raw, chart)
        check.suggested = suggested
        fields.append(check)
    receivables = next((f for f in fields if f.key == "receivables"), None)
    predefined = []
    for name, label, bas in READ_ONLY_PREDEFINED:
        number = chart.predefined.get(name)
        warning = None
        if number is not None and number != bas:
            warning = _("Differs from BAS (%(bas)s).", bas=bas)
        if (
            name == "CUSTCLAIM" and number is not None and receivables and receivables.value
            and receivables.value != str(number)
        ):
            warning = _(
                "Invoices book receivables on %(number)s in Fortnox, but vouchers use "
                "%(ours)s (your Accounts receivable mapping).",
                number=number, ours=receivables.value,
            )
        predefined.append(PredefinedRow(name, _(label), number, warning))
    conn = get_connection(company_id)
    series = (conn.voucher_series if conn else None) or DEFAULT_VOUCHER_SERIES
    if values is not None and values.get("voucher_series"):
        series = str(values["voucher_series"]).strip()
    return MappingView(
        fields=fields,
        chart=chart,
        predefined=predefined,
        bookkeep_invoices=bool(conn and conn.bookkeep_invoices),
        connected=chart.database_number is not None,
        voucher_series=series,
        voucher_series_error=check_voucher_series(series, chart),
    )


def prefill_suggestions(company_id: str) -> int:
    """Suggest an account for every key nobody has set (after an import). Returns how many."""
    chart = load_chart(company_id)
    if chart.current_year is None:
        store_health(company_id, build_view(company_id, chart=chart))
        session().commit()
        return 0
    stored = stored_mappings(company_id)
    accounts = chart.current_accounts()
    added = 0
    for spec in key_specs():
        if spec.key in stored:
            continue
        candidate = next(
            (chart.predefined[name] for name in spec.predefined if name in chart.predefined),
            spec.bas_default,
        )
        if candidate is None or candidate not in accounts:
            continue
        session().add(AccountMapping(company_id=company_id, key=spec.key, account=candidate,
                                     confirmed=False))
        added += 1
    session().flush()
    store_health(company_id, build_view(company_id, chart=chart))
    session().commit()
    return added


@dataclass
class SaveResult:
    """What a save did: the checked view to show again, and the owner's notice."""

    saved: bool
    view: MappingView
    message: str = ""
    #: Saved, but accounts are still missing or invalid: the notice is a warning.
    incomplete: bool = False


def save(company_id: str, form: Mapping[str, str], user_id: str) -> SaveResult:
    """Validate the whole form against the chart; save only if no field has an error."""
    chart = load_chart(company_id)
    view = build_view(company_id, values=form, chart=chart)
    if not view.connected:
        return SaveResult(False, view, _("Connect Fortnox first."))
    if view.invalid or (form.get("voucher_series") and view.voucher_series_error):
        return SaveResult(False, view)
    stored = stored_mappings(company_id)
    db_session = session()
    # The keys the page's form showed with an account (``shown``, space-separated): only
    # those can have been cleared by the owner. A form opened before the import suggested
    # its accounts shows them empty: saving it never deletes a suggestion. (A post without
    # ``shown``, not from our page, clears what it leaves empty, as it always did.)
    shown = set(str(form.get("shown", "")).split()) if "shown" in form else None
    for check in view.fields:
        mapping = stored.get(check.key)
        if not check.value:
            cleared = shown is None or check.key in shown
            if mapping is not None and cleared:
                db_session.delete(mapping)
            continue
        if mapping is None:
            mapping = AccountMapping(company_id=company_id, key=check.key)
            db_session.add(mapping)
        mapping.account = int(check.value)
        mapping.confirmed = True
        mapping.updated_by = user_id
        mapping.updated_at = utcnow()
    conn = get_connection(company_id)
    if conn is not None:
        conn.bookkeep_invoices = form.get("bookkeep_invoices") in ("on", "1", "true")
        if form.get("voucher_series"):
            conn.voucher_series = view.voucher_series
    db_session.flush()
    fresh = build_view(company_id, chart=chart)
    health = store_health(company_id, fresh)
    db_session.commit()
    if fresh.complete:
        message = _("Account mapping saved. The mapping is complete.")
    else:
        message = _("Account mapping saved. %(summary)s", summary=health.summary())
    return SaveResult(True, fresh, message, incomplete=not fresh.complete)



@dataclass(frozen=True)
class MappingHealth:
    """The card's mapping line, stored on the connection whenever the mapping or the chart
    changes, so the card polled every few seconds never loads the chart."""

    connected: bool = False
    missing: int = 0
    invalid: int = 0
    suggested: int = 0
    warnings: tuple[Reason, ...] = ()

    @property
    def complete(self) -> bool:
        """Complete only while connected: without a Fortnox company the line claims nothing."""
        return self.connected and not self.missing and not self.invalid

    @classmethod
    def of(cls, view: MappingView) -> MappingHealth:
        """Count what the checked view found."""
        return cls(view.connected, len(view.missing), len(view.invalid), len(view.suggested),
                   tuple(view.warnings))

    def to_json(self) -> dict[str, Any]:
        """The stored form: counts, and warnings as reason codes with their parameters."""
        return {
            "missing": self.missing, "invalid": self.invalid, "suggested": self.suggested,
            "warnings": [[w.code, dict(w.params)] for w in self.warnings],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> MappingHealth:
        """Read the stored form (None before the first import: nothing to say yet)."""
        if not data:
            return cls()
        return cls(
            True, int(data.get("missing", 0)), int(data.get("invalid", 0)),
            int(data.get("suggested", 0)),
            tuple(Reason(code, params) for code, params in data.get("warnings", [])),
        )

    def summary(self) -> str:
        """The card's completeness line, in the owner's language."""
        if not self.connected:
            return ""
        parts = []
        if self.missing:
            parts.append(ngettext("Mapping incomplete: %(num)s account missing",
                                  "Mapping incomplete: %(num)s accounts missing", self.missing))
        if self.invalid:
            parts.append(ngettext("%(num)s mapped account is not valid",
                                  "%(num)s mapped accounts are not valid", self.invalid))
        if not parts:
            if self.suggested:
                return _("Mapping complete (suggested accounts, please review)")
            return _("Mapping complete")
        return "; ".join(parts)


def store_health(company_id: str, view: MappingView) -> MappingHealth:
    """Keep the card's mapping line on the connection row (the caller commits)."""
    health = MappingHealth.of(view)
    conn = get_connection(company_id)
    if conn is not None:
        conn.mapping_health = health.to_json() if view.connected else None
    return health


class MappingProblem(Problem):
    """The item cannot be pushed because of the mapping or the imported chart."""


class AccountResolver:
    """The sync engine's pre-check: which account a key books to on a date, or why not.

    Loads the mapping and the imported chart once, so checking many items costs no query
    (and no Fortnox request) per item.
    """

    def __init__(self, company_id: str) -> None:
        self.chart = load_chart(company_id)
        self.mappings = stored_mappings(company_id)
        self.labels = {spec.key: spec.label for spec in key_specs()}
        conn = get_connection(company_id)
        self.locked_through = conn.locked_through if conn else None

    def check_date(self, on: date) -> None:
        """Fortnox must take bookings on ``on``: a financial year covers it, and it is after
        the locked period (both from the last import; a retry refreshes them first)."""
        if not any(y.from_date <= on <= y.to_date for y in self.chart.years):
            raise MappingProblem("FINANCIAL_YEAR_MISSING", date=on.isoformat())
        if self.locked_through is not None and on <= self.locked_through:
            raise MappingProblem(
                "PERIOD_LOCKED", date=on.isoformat(), locked=self.locked_through.isoformat()
            )

    def year(self, on: date) -> ChartYear:
        """The imported financial year covering ``on`` (after :meth:`check_date`'s checks):
        a voucher goes into it, its Id sent as ``financialyear``."""
        self.check_date(on)
        return next(y for y in self.chart.years if y.from_date <= on <= y.to_date)

    def own_account(self, number: int, on: date) -> int:
        """An account a host voucher row names itself: it must exist and be active in the
        year covering ``on``."""
        year = self.year(on)
        account = self.chart.accounts.get(year.fortnox_id, {}).get(number)
        if account is None or not account.active:
            raise MappingProblem(
                "VOUCHER_ACCOUNT_MISSING" if account is None else "VOUCHER_ACCOUNT_INACTIVE",
                number=number, year=_year_label(year),
            )
        return number

    def account(self, key: str, on: date) -> int:
        """The account ``key`` books to on ``on``, or a :class:`MappingProblem` saying why not."""
        label = self.labels.get(key, key)
        mapping = self.mappings.get(key)
        if mapping is None:
            raise MappingProblem("ACCOUNT_UNMAPPED", label=label)
        self.check_date(on)
        year = next(y for y in self.chart.years if y.from_date <= on <= y.to_date)
        account = self.chart.accounts.get(year.fortnox_id, {}).get(mapping.account)
        if account is None or not account.active:
            raise MappingProblem(
                "ACCOUNT_MISSING" if account is None else "ACCOUNT_INACTIVE",
                label=label, number=mapping.account, year=_year_label(year),
            )
        return mapping.account
