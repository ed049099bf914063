"""What the sync engine sends Fortnox for a customer, an invoice and a voucher, and what Fortnox
makes of it.

Pure: no I/O, no database, no Flask, and :class:`~decimal.Decimal` for every amount. The engine
calls :func:`account_keys` (to resolve the sales accounts with its own pre-check), then
:func:`invoice_payload` / :func:`customer_payload`, and POSTs the ``body`` as it is.

**Pre-checks.** Whatever Fortnox would refuse for a reason we know (docs/sandbox.md, "Field
lengths"; docs/fortnox.md, "Customers") is refused here first, as a :class:`PayloadProblem`
carrying one of our reason codes (``aourly_fortnox.reasons``). The engine never branches on a
Fortnox error code (docs/fortnox.md, "Errors").

**Totals.** :func:`invoice_payload` predicts the totals Fortnox computes for the body
(docs/fortnox.md, "Invoices"): each row's price and quantity rounded to 2 decimals half-up,
the row total ``quantity x price`` rounded to the öre, VAT per rate on the sum of that rate's
rows (rounded to the öre), and ``Total`` rounded to whole kronor, the difference being
``RoundOff``. No freight and no invoicing fee are sent, so ``Net`` is the rows' sum and
``Total`` is ``Net + TotalVAT + RoundOff``.

**More than 2 decimals.** Fortnox would round such a quantity or price before multiplying
(1.125 h x 800 would become 1.13 x 800 = 904.00, not 900.00), so the invoice would disagree
with the host's. Such a row is sent as quantity 1 at the row's total rounded to the öre
(half-up), with the original quantity and unit price appended to its text
(``"Konsulttimmar (1.125 × 800.00)"``): both sides then agree to the öre. Prices are treated
like quantities (no prediction of a rounded price): one rule, and the host's row total wins.

**Vouchers** (docs/fortnox.md, "Vouchers"): :func:`voucher_payload` rounds every amount to
the öre (half-up, as Fortnox stores it) and refuses a voucher whose debits and credits then
differ by even one öre (``VOUCHER_UNBALANCED``), so an unbalanced voucher never leaves Aourly.
Our marker (``[AOU:…]``) ends the ``Description``; the host's text is cut to what is left of
Fortnox's 200 characters.

**Numbers in the body** are JSON-native, so the body can be sent, stored or hashed as it is:
a whole amount is an ``int`` (``100``), any other a ``float`` rendered from the Decimal
(``0.25``) only after checking that the float reads back as exactly the same Decimal (true up
to 15 significant digits, i.e. any amount under 10¹³ kronor with öre). Otherwise the payload
is refused (``AMOUNT_TOO_LARGE``) rather than sent approximately. This is what the client does
with a Decimal too (``fortnox/client.py``), and Fortnox documents amounts as JSON numbers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from ..host import CustomerData, InvoiceData, InvoiceRowData, VoucherData
from ..i18n import N_
from ..reasons import Problem

CENT = Decimal("0.01")
ONE = Decimal(1)
ZERO = Decimal(0)
HUNDRED = Decimal(100)

#: The VAT rates Fortnox accepts on a row (Swedish VAT: 25, 12, 6 and exempt).
DOMESTIC_VAT_RATES = (25, 12, 6, 0)
#: Sales key per VAT rate for a domestic row (docs/fortnox.md, "Mapping").
SALES_KEY_BY_RATE = {25: "sales_25", 12: "sales_12", 6: "sales_6", 0: "sales_0"}
#: Customers whose sales carry no Swedish VAT: their rows go with VAT 0 to these keys.
SALES_KEY_BY_VAT_TYPE = {"EUREVERSEDVAT": "sales_eu", "EXPORT": "sales_export"}
#: The VAT types a host customer may have (``host.CustomerData.vat_type``).
VAT_TYPES = ("SEVAT", "EUREVERSEDVAT", "EXPORT")

#: Fortnox's published text lengths (docs/sandbox.md, "Field lengths"), with the label the
#: owner reads (an English msgid, translated where shown: ``reasons.reason_text``).
INVOICE_TEXT_LIMITS: dict[str, tuple[int, str]] = {
    "ExternalInvoiceReference1": (80, N_("Fortnox reference")),
    "ExternalInvoiceReference2": (80, N_("Invoice number")),
    "YourReference": (50, N_("Your reference")),
    "OurReference": (50, N_("Our reference")),
}
ROW_DESCRIPTION_LIMIT = 255
ROW_DESCRIPTION_LABEL = N_("Row text")
CUSTOMER_TEXT_LIMITS: dict[str, tuple[int, str]] = {"ZipCode": (10, N_("Postcode"))}
#: A voucher's Description, our marker included (docs/sandbox.md, "Field lengths").
VOUCHER_DESCRIPTION_LIMIT = 200
#: A voucher row's text (``TransactionInformation``).
VOUCHER_ROW_TEXT_LIMIT = 100
VOUCHER_ROW_TEXT_LABEL = N_("Voucher row text")
#: How much of a too long text a reason shows, so the owner can find it.
TEXT_START = 20

#: ISO 3166-1 alpha-2, the officially assigned codes: what Fortnox takes as ``CountryCode``.
COUNTRY_CODES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
    """.split()
)


class PayloadProblem(Problem):
    """Fortnox would refuse the item as it is (a pre-check): the owner learns what to fix."""


@dataclass(frozen=True)
class InvoiceTotals:
    """The totals Fortnox will compute for a body, so the engine can compare its answer (and
    the host's own figures) to the öre."""

    net: Decimal
    total_vat: Decimal
    #: VAT per positive rate present on the rows (0 % rows, EU and export have none).
    vat_by_rate: Mapping[int, Decimal]
    round_off: Decimal
    total: Decimal


@dataclass(frozen=True)
class InvoicePayload:
    """An invoice as POSTed (``{"Invoice": {...}}``) with the totals Fortnox will answer."""

    body: dict[str, Any]
    totals: InvoiceTotals


@dataclass(frozen=True)
class _Row:
    """One row as sent: what Fortnox computes from, and its text."""

    description: str
    quantity: Decimal
    price: Decimal
    vat: int
    key: str

    @property
    def total(self) -> Decimal:
        return _round2(self.quantity * self.price)


def account_keys(invoice: InvoiceData, customer: CustomerData) -> set[str]:
    """The mapping keys the invoice's rows book to, so the caller resolves (and pre-checks)
    exactly those accounts before :func:`invoice_payload`."""
    _check_vat_type(customer.vat_type)
    return {_row_key(row, customer) for row in invoice.rows}


def invoice_payload(
    invoice: InvoiceData,
    customer: CustomerData,
    customer_number: str,
    reference: str,
    accounts: Mapping[str, int],
) -> InvoicePayload:
    """The body for ``POST /3/invoices`` and the totals Fortnox will compute for it, or a
    :class:`PayloadProblem` for what Fortnox would refuse.

    ``reference`` (our ``AOU:`` reference) goes to ``ExternalInvoiceReference1``, where the
    engine finds the invoice again; the host's number to ``ExternalInvoiceReference2`` for
    people. ``accounts`` maps every key of :func:`account_keys` to its account number (a
    missing key is the caller's bug: ``KeyError``).
    """
    if not invoice.rows:
        raise PayloadProblem("INVOICE_EMPTY", number=invoice.number)
    _check_vat_type(customer.vat_type)
    rows = [_sent_row(row, customer) for row in invoice.rows]
    head: dict[str, Any] = {
        "CustomerNumber": customer_number,
        "InvoiceDate": invoice.invoice_date.isoformat(),
        "DueDate": invoice.due_date.isoformat(),
        "Currency": invoice.currency,
        "ExternalInvoiceReference1": reference,
        "ExternalInvoiceReference2": invoice.number,
    }
    if invoice.your_reference:
        head["YourReference"] = invoice.your_reference
    if invoice.our_reference:
        head["OurReference"] = invoice.our_reference
    if invoice.remarks:
        head["Remarks"] = invoice.remarks
    _check_texts(head, INVOICE_TEXT_LIMITS)
    head["VATIncluded"] = False
    head["InvoiceRows"] = [
        {
            "Description": row.description,
            "DeliveredQuantity": _json_number(row.quantity),
            "Price": _json_number(row.price),
            "VAT": row.vat,
            "AccountNumber": accounts[row.key],
        }
        for row in rows
    ]
    totals = _totals(rows)
    for value in (totals.net, totals.total_vat, totals.total):
        _json_number(value)  # a total Fortnox could not answer exactly is refused too
    return InvoicePayload(body={"Invoice": head}, totals=totals)


def customer_payload(
    customer: CustomerData, customer_number: str, reference: str
) -> dict[str, Any]:
    """The body for ``POST /3/customers`` (and its update), or a :class:`PayloadProblem`.

    Every field is sent, an unset one as ``""``, so an update clears in Fortnox what the host
    cleared, and :func:`body_hash` covers them all. ``CountryCode`` is upper-cased
    (``se`` means ``SE``); ``OrganisationNumber`` goes as the host wrote it, since Fortnox's
    search matches the text as stored (docs/fortnox.md, "Search").
    """
    if not customer.name.strip():
        raise PayloadProblem("CUSTOMER_NAME_MISSING", customer=customer.id)
    _check_vat_type(customer.vat_type)
    country = (customer.country_code or "").strip().upper()
    if country and country not in COUNTRY_CODES:
        raise PayloadProblem(
            "COUNTRY_CODE_INVALID", country_code=customer.country_code, name=customer.name
        )
    fields: dict[str, Any] = {
        "CustomerNumber": customer_number,
        "Name": customer.name,
        "OrganisationNumber": customer.organisation_number or "",
        "Email": customer.email or "",
        "Address1": customer.address or "",
        "ZipCode": customer.zip_code or "",
        "City": customer.city or "",
        "CountryCode": country,
        "VATNumber": customer.vat_number or "",
        "VATType": customer.vat_type,
        "Type": "COMPANY" if customer.is_company else "PRIVATE",
        "ExternalReference": reference,
    }
    _check_texts(fields, CUSTOMER_TEXT_LIMITS)
    return {"Customer": fields}


@dataclass(frozen=True)
class VoucherPayload:
    """A voucher as POSTed (``{"Voucher": {...}}``) and its total (debit = credit)."""

    body: dict[str, Any]
    total: Decimal


def voucher_description(text: str, marker: str) -> str:
    """The host's text cut to what Fortnox's 200 characters leave beside our marker, then
    the marker at the end (where the pull and the exactly-once search find it)."""
    room = VOUCHER_DESCRIPTION_LIMIT - len(marker) - 1
    head = " ".join(text.split())[:max(room, 0)].rstrip()
    return f"{head} {marker}" if head else marker


def voucher_payload(
    voucher: VoucherData, series: str, marker: str, accounts: Sequence[int]
) -> VoucherPayload:
    """The body for ``POST /3/vouchers`` (the financial year goes as a query parameter), or
    a :class:`PayloadProblem` for what Fortnox would refuse.

    ``accounts`` holds each row's account number, in row order, as the caller resolved and
    pre-checked them (a mapping key through the mapping, or the row's own account).
    """
    if len(voucher.rows) < 2:
        raise PayloadProblem("VOUCHER_TOO_FEW_ROWS", description=voucher.description[:TEXT_START])
    if len(accounts) != len(voucher.rows):
        raise ValueError("one account per row")
    rows: list[dict[str, Any]] = []
    debit_total = credit_total = ZERO
    for row, account in zip(voucher.rows, accounts, strict=True):
        debit, credit = _round2(row.debit), _round2(row.credit)
        debit_total += debit
        credit_total += credit
        sent: dict[str, Any] = {
            "Account": account, "Debit": _json_number(debit), "Credit": _json_number(credit),
        }
        if row.description:
            if len(row.description) > VOUCHER_ROW_TEXT_LIMIT:
                raise PayloadProblem(
                    "TEXT_TOO_LONG", field="TransactionInformation", label=VOUCHER_ROW_TEXT_LABEL,
                    limit=VOUCHER_ROW_TEXT_LIMIT, start=row.description[:TEXT_START],
                )  # fmt: skip
            sent["TransactionInformation"] = row.description
        rows.append(sent)
    if debit_total != credit_total:
        raise PayloadProblem(
            "VOUCHER_UNBALANCED", debit=format(debit_total, "f"), credit=format(credit_total, "f"),
            description=voucher.description[:TEXT_START],
        )  # fmt: skip
    _json_number(debit_total)  # a total Fortnox could not hold exactly is refused too
    head: dict[str, Any] = {
        "VoucherSeries": series,
        "TransactionDate": voucher.transaction_date.isoformat(),
        "Description": voucher_description(voucher.description, marker),
        "VoucherRows": rows,
    }
    return VoucherPayload(body={"Voucher": head}, total=debit_total)


def voucher_hash(voucher: VoucherData) -> str:
    """A stable hash of the host's voucher (text, date, rows), to tell whether a booked
    voucher changed in Aourly. The host's data, not the body: a later mapping or series
    choice changes the body of a voucher that did not change."""
    return body_hash({
        "id": voucher.id, "description": voucher.description,
        "date": voucher.transaction_date.isoformat(),
        "rows": [[_plain(row.debit), _plain(row.credit), row.account,
                  row.account_key, row.description] for row in voucher.rows],
    })


def body_hash(body: Mapping[str, Any]) -> str:
    """A stable sha256 of a body's canonical JSON, so the engine sends a customer or an
    invoice again only when what it would send has changed."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- rows --------------------------------------------------------------------------------------


def _check_vat_type(vat_type: str) -> None:
    if vat_type not in VAT_TYPES:
        raise PayloadProblem("VAT_TYPE_UNSUPPORTED", vat_type=vat_type)


def _row_key(row: InvoiceRowData, customer: CustomerData) -> str:
    """The row's own key wins; else the customer's VAT type, else the row's rate."""
    foreign = SALES_KEY_BY_VAT_TYPE.get(customer.vat_type)
    if foreign is None and row.vat_rate not in DOMESTIC_VAT_RATES:
        raise PayloadProblem(
            "VAT_RATE_UNSUPPORTED", rate=row.vat_rate, start=row.description[:TEXT_START]
        )
    return row.account_key or foreign or SALES_KEY_BY_RATE[row.vat_rate]


def _sent_row(row: InvoiceRowData, customer: CustomerData) -> _Row:
    key = _row_key(row, customer)
    # EU reverse charge and export carry no Swedish VAT: 0 on every row, sent explicitly.
    vat = 0 if customer.vat_type in SALES_KEY_BY_VAT_TYPE else row.vat_rate
    text = row.description
    if _has_more_decimals(row.quantity) or _has_more_decimals(row.unit_price):
        suffix = f" ({_plain(row.quantity)} × {_price_text(row.unit_price)})"
        _check_row_text(text, ROW_DESCRIPTION_LIMIT - len(suffix))
        total = _round2(row.quantity * row.unit_price)
        return _Row((text + suffix).strip(), ONE, total, vat, key)
    _check_row_text(text, ROW_DESCRIPTION_LIMIT)
    return _Row(text, _round2(row.quantity), _round2(row.unit_price), vat, key)


def _check_row_text(text: str, limit: int) -> None:
    if len(text) > limit:
        raise PayloadProblem(
            "TEXT_TOO_LONG", field="Description", label=ROW_DESCRIPTION_LABEL,
            limit=max(limit, 0), start=text[:TEXT_START],
        )  # fmt: skip


def _check_texts(values: Mapping[str, Any], limits: Mapping[str, tuple[int, str]]) -> None:
    """Characters are counted, not bytes (``å`` is one), as Fortnox counts them."""
    for name, (limit, label) in limits.items():
        value = values.get(name)
        if isinstance(value, str) and len(value) > limit:
            raise PayloadProblem(
                "TEXT_TOO_LONG", field=name, label=label, limit=limit, start=value[:TEXT_START]
            )


def _totals(rows: list[_Row]) -> InvoiceTotals:
    base: dict[int, Decimal] = {}
    for row in rows:
        base[row.vat] = base.get(row.vat, ZERO) + row.total
    vat_by_rate = {rate: _round2(amount * rate / HUNDRED) for rate, amount in base.items() if rate}
    net = sum(base.values(), ZERO)
    total_vat = sum(vat_by_rate.values(), ZERO)
    exact = net + total_vat
    total = exact.quantize(ONE, rounding=ROUND_HALF_UP)
    return InvoiceTotals(
        net=net,
        total_vat=total_vat,
        vat_by_rate=MappingProxyType(dict(sorted(vat_by_rate.items(), reverse=True))),
        round_off=total - exact,
        total=total,
    )


# -- numbers -----------------------------------------------------------------------------------


def _round2(value: Decimal) -> Decimal:
    """Half-up to the öre, as Fortnox rounds (1.125 -> 1.13)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _has_more_decimals(value: Decimal) -> bool:
    return value != _round2(value)


def _plain(value: Decimal) -> str:
    """A quantity as people write it: ``1.125``, ``2``, never ``2E+1``."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def _price_text(value: Decimal) -> str:
    """A unit price with at least its öre (``800.00``), more decimals when it has them."""
    return format(_round2(value), "f") if not _has_more_decimals(value) else _plain(value)


def _json_number(value: Decimal) -> int | float:
    """A JSON-native number equal to ``value``: an int when whole, else a float that reads
    back as exactly ``value`` (the module docstring says why); never an approximation."""
    if value == value.to_integral_value():
        whole = int(value)
        if abs(whole) < 10**15:
            return whole
    else:
        rendered = float(value)
        if Decimal(repr(rendered)) == value:
            return rendered
    raise PayloadProblem("AMOUNT_TOO_LARGE", amount=format(value, "f"))
