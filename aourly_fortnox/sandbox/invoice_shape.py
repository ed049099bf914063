"""The invoice's fields: its full single-GET shape, what a request may set, and list items.

Types follow the recorded API (docs/fortnox.md, "Recorded answers"): ``DocumentNumber``, ``OCR`` and
``CustomerNumber`` are strings, ``Credit`` is the string ``"false"``, unset dates are ``null``
(``DeliveryDate``, ``FinalPayDate``) or ``""`` (``InvoicePeriodStart``).
"""

from __future__ import annotations

from typing import Any

DATES = {"InvoiceDate", "DueDate", "DeliveryDate", "InvoicePeriodStart", "InvoicePeriodEnd",
         "OutboundDate"}  # fmt: skip
NUMBERS = {"CurrencyRate", "CurrencyUnit", "Freight", "AdministrationFee"}
BOOLEANS = {"VATIncluded", "NotCompleted", "EUQuarterlyReport"}
ENUMS = {
    "InvoiceType": {
        "INVOICE",
        "AGREEMENTINVOICE",
        "INTRESTINVOICE",
        "SUMMARYINVOICE",
        "CASHINVOICE",
    },  # fmt: skip
    "Language": {"SV", "EN"},
    "TaxReductionType": {"none", "rot", "rut", "green"},
}
OBJECTS: dict[str, type] = {"EmailInformation": dict, "EDIInformation": dict, "Labels": list}
#: ``EDIInformation``'s fields a request may set; ``EDIStatus`` (how far the e-invoice got) is
#: Fortnox's to write, so an echoed one is ignored.
EDI_WRITABLE = (
    "EDIGlobalLocationNumber", "EDIGlobalLocationNumberDelivery", "EDIInvoiceExtra1",
    "EDIInvoiceExtra2", "EDIOurElectronicReference", "EDIYourElectronicReference",
)  # fmt: skip
EDI_READ_ONLY = ("EDIStatus",)
TEXTS = {
    "CustomerNumber", "Currency", "YourReference", "OurReference", "YourOrderNumber",
    "ExternalInvoiceReference1", "ExternalInvoiceReference2", "Remarks", "Comments",
    "TermsOfPayment", "PriceList", "PrintTemplate", "CostCenter", "Project", "Address1",
    "Address2", "City", "ZipCode", "Country", "CustomerName", "OrganisationNumber", "Phone1",
    "Phone2", "DeliveryAddress1", "DeliveryAddress2", "DeliveryCity", "DeliveryCountry",
    "DeliveryName", "DeliveryZipCode", "WayOfDelivery", "TermsOfDelivery", "OCR",
}  # fmt: skip
WRITABLE = DATES | NUMBERS | BOOLEANS | set(ENUMS) | set(OBJECTS) | TEXTS | {"InvoiceRows"}
ROW_WRITABLE = {
    "AccountNumber", "ArticleNumber", "CostCenter", "DeliveredQuantity", "Description",
    "Discount", "DiscountType", "HouseWork", "Price", "Project", "Unit", "VAT",
}  # fmt: skip
#: Fields a client may echo back from a GET; Fortnox ignores them on write.
ROW_READ_ONLY = {
    "RowId", "Total", "TotalExcludingVAT", "PriceExcludingVAT", "ContributionPercent",
    "ContributionValue", "HouseWorkHoursToReport", "HouseWorkType", "StockPointCode",
}  # fmt: skip
LIST_FIELDS = (
    "@url", "Balance", "Booked", "Cancelled", "CostCenter", "Currency", "CurrencyRate",
    "CurrencyUnit", "CustomerName", "CustomerNumber", "DocumentNumber", "DueDate",
    "ExternalInvoiceReference1", "ExternalInvoiceReference2", "InvoiceDate", "InvoiceType",
    "NoxFinans", "OCR", "VoucherNumber", "VoucherSeries", "VoucherYear", "WayOfDelivery",
    "TermsOfPayment", "Project", "Sent", "Total", "FinalPayDate",
)  # fmt: skip


def blank_invoice() -> dict[str, Any]:
    """A new invoice before the request and the customer card fill it in."""
    invoice: dict[str, Any] = {
        "AccountingMethod": "ACCRUAL", "AdministrationFee": 0, "AdministrationFeeVAT": 0,
        "Address1": "", "Address2": "", "Balance": 0, "BasisTaxReduction": 0, "Booked": False,
        "Cancelled": False, "City": "", "Comments": "", "ContractReference": 0,
        "CostCenter": "", "Country": "", "Credit": "false", "CreditInvoiceReference": "0",
        "Currency": "SEK", "CurrencyRate": 1, "CurrencyUnit": 1, "CustomerName": "",
        "CustomerNumber": "", "DeliveryAddress1": "", "DeliveryAddress2": "",
        "DeliveryCity": "", "DeliveryCountry": "", "DeliveryDate": None, "DeliveryName": "",
        "DeliveryZipCode": "", "DocumentNumber": "", "DueDate": "",
        "EmailInformation": {
            "EmailAddressBCC": None, "EmailAddressCC": None, "EmailAddressFrom": None,
            "EmailAddressTo": "", "EmailBody": " ", "EmailSubject": "",
        },
        "EDIInformation": dict.fromkeys(EDI_WRITABLE + EDI_READ_ONLY, ""),
        "EUQuarterlyReport": False, "ExternalInvoiceReference1": "",
        "ExternalInvoiceReference2": "", "FinalPayDate": None, "Freight": 0, "FreightVAT": 0,
        "Gross": 0, "HouseWork": False, "InvoiceDate": "", "InvoicePeriodEnd": "",
        "InvoicePeriodStart": "", "InvoiceReference": "0", "InvoiceRows": [],
        "InvoiceType": "INVOICE", "Labels": [], "Language": "SV", "LastRemindDate": None,
        "Net": 0, "NotCompleted": False, "NoxFinans": False, "OCR": "", "OfferReference": "0",
        "OrderReference": "0", "OrganisationNumber": "", "OurReference": "", "OutboundDate": "",
        "PaymentWay": "", "Phone1": "", "Phone2": "", "PriceList": "A", "PrintTemplate": "st",
        "Project": "", "Remarks": "", "Reminders": 0, "RoundOff": 0, "Sent": False,
        "TaxReduction": None, "TaxReductionType": "none", "TermsOfDelivery": "",
        "TermsOfPayment": "30", "TimeBasisReference": None, "Total": 0, "TotalToPay": 0,
        "TotalVAT": 0, "VATIncluded": False, "VoucherNumber": None, "VoucherSeries": None,
        "VoucherYear": None, "WarehouseReady": True, "WayOfDelivery": "", "YourOrderNumber": "",
        "YourReference": "", "ZipCode": "",
    }  # fmt: skip
    return invoice


#: Everything in the full shape that a request may not set (echoing it back is harmless).
READ_ONLY = (set(blank_invoice()) | {"@url", "@urlTaxReductionList"}) - WRITABLE
