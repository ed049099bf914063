"""Invoice rows and totals computed the way Fortnox does, all in Decimal.

Per row, ``Price`` and ``DeliveredQuantity`` are rounded to two decimals half-up first
(1.125 -> 1.13, docs/fortnox.md, "Invoices"), then ``Total = quantity x price`` less the discount,
rounded to öre. Output VAT is computed per rate on the sum of that rate's rows. Freight and the
invoicing fee carry 25 % VAT. ``Total`` is rows + freight + fee + VAT rounded to whole kronor,
the difference being ``RoundOff`` (öresavrundning, booked on ROUNDOFF 3740).

``Net`` and ``Gross`` are both the rows' sum without VAT, freight or fees, as a real invoice
recorded in 2026 showed (docs/sandbox.md): one 100 kr row at 25 %, freight 25, fee 50 gave
Net 100, Gross 100, TotalVAT 43.75, Total 219 and RoundOff 0.25.

With ``VATIncluded`` the row amounts include VAT; the VAT is then taken out per (account,
rate) group so that the bookkeeping voucher balances to the öre.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .values import ZERO, amount, decimal_of, round0, round2

VAT_RATES = (25, 12, 6, 0)
#: Predefined sales account per VAT rate for rows without an AccountNumber.
SALES_BY_VAT = {25: "SALES", 12: "SALES_MP2", 6: "SALES_MP3", 0: "SALES_MP0"}
#: Predefined output-VAT account per rate (docs/fortnox.md, "BAS accounts").
OUTVAT_BY_VAT = {25: "OUTVAT_MP1", 12: "OUTVAT_MP2", 6: "OUTVAT_MP3"}
#: An account's VATCode decides a row's VAT when the row names the account but no VAT.
VAT_BY_CODE = {"MP1": 25, "MP2": 12, "MP3": 6, "MF": 0, "MP0": 0}
HUNDRED = Decimal(100)


def row_amounts(
    quantity: Decimal, price: Decimal, discount: Decimal, discount_type: str, vat: int,
    vat_included: bool,
) -> dict[str, Any]:  # fmt: skip
    """The computed fields of one row (``DeliveredQuantity`` as Fortnox's 2-decimal string)."""
    quantity, price = round2(quantity), round2(price)
    line = quantity * price
    if discount_type == "PERCENT":
        line = line * (HUNDRED - discount) / HUNDRED
    else:
        line = line - discount
    total = round2(line)
    if vat_included:
        excluding = round2(total * HUNDRED / (HUNDRED + vat))
        price_excluding = round2(price * HUNDRED / (HUNDRED + vat))
    else:
        excluding, price_excluding = total, price
    return {
        "DeliveredQuantity": format(quantity, "f"),
        "Price": amount(price),
        "PriceExcludingVAT": amount(price_excluding),
        "Total": amount(total),
        "TotalExcludingVAT": amount(excluding),
    }


@dataclass
class InvoiceLedger:
    """What an invoice amounts to, and how its bookkeeping voucher credits it."""

    sales_by_account: dict[int, Decimal] = field(default_factory=dict)
    vat_by_rate: dict[int, Decimal] = field(default_factory=dict)
    freight: Decimal = ZERO
    administration_fee: Decimal = ZERO
    #: The rows without VAT; freight and fees are not in it.
    net: Decimal = ZERO
    total_vat: Decimal = ZERO
    #: Equal to ``net`` (recorded), not net plus VAT.
    gross: Decimal = ZERO
    total: Decimal = ZERO
    round_off: Decimal = ZERO

    def totals(self) -> dict[str, Any]:
        """The invoice's total fields as JSON numbers."""
        return {
            "Net": amount(self.net),
            "TotalVAT": amount(self.total_vat),
            "Gross": amount(self.gross),
            "RoundOff": amount(self.round_off),
            "Total": amount(self.total),
            "TotalToPay": amount(self.total),
            "FreightVAT": amount(round2(self.freight * 25 / HUNDRED)),
            "AdministrationFeeVAT": amount(round2(self.administration_fee * 25 / HUNDRED)),
        }


def invoice_ledger(
    rows: list[dict[str, Any]], freight: Decimal, administration_fee: Decimal, vat_included: bool
) -> InvoiceLedger:
    """Totals and voucher lines from stored rows (each with AccountNumber, VAT, Total)."""
    groups: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        groups[(int(row["AccountNumber"]), int(row["VAT"]))] += decimal_of(row["Total"])
    sales: dict[int, Decimal] = defaultdict(lambda: ZERO)
    vat: dict[int, Decimal] = defaultdict(lambda: ZERO)
    extras = freight + administration_fee
    if vat_included:
        for (account, rate), total in groups.items():
            group_vat = round2(total * rate / (HUNDRED + rate))
            vat[rate] += group_vat
            sales[account] += total - group_vat
        if extras:
            vat[25] += round2(extras * 25 / HUNDRED)
    else:
        base: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for (account, rate), total in groups.items():
            sales[account] += total
            base[rate] += total
        base[25] += extras
        for rate, amount_at_rate in base.items():
            vat[rate] += round2(amount_at_rate * rate / HUNDRED)
    ledger = InvoiceLedger(
        sales_by_account=dict(sales),
        vat_by_rate={rate: value for rate, value in vat.items() if rate and value},
        freight=freight,
        administration_fee=administration_fee,
    )
    ledger.net = sum(sales.values(), ZERO)
    ledger.gross = ledger.net  # not "net plus VAT": what Fortnox answers (module docstring)
    ledger.total_vat = sum(ledger.vat_by_rate.values(), ZERO)
    exact = ledger.net + extras + ledger.total_vat
    ledger.total = round0(exact)
    ledger.round_off = ledger.total - exact
    return ledger


def ocr_for(document_number: str) -> str:
    """Swedish OCR reference: the number, a length digit, and a Luhn check digit."""
    base = f"{document_number}{(len(document_number) + 2) % 10}"
    total = 0
    for index, char in enumerate(reversed(base)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return f"{base}{(10 - total % 10) % 10}"
