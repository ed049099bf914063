"""Reason codes: what the sync layer stores, and the sentence the owner reads for each.

Jobs run without a request, so they never pick a language: they store a code and its
parameters (``SyncRun.message`` / ``message_params``; ``MappingProblem``), and the web layer
renders the sentence in the owner's language when the page is drawn. The codes are listed in
docs/fortnox.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .i18n import N_, N_plural, gettext, ngettext

#: code -> English source text (a gettext msgid with ``%(name)s`` parameters).
TEXTS: dict[str, str] = {
    # Runs (imports, syncs)
    "NOT_CONNECTED": N_("Fortnox is not connected."),
    "OTHER_COMPANY": N_("Fortnox answered for a different company; reconnect."),
    "AUTH_EXPIRED": N_("The Fortnox authorization has expired; reconnect to continue."),
    "FORTNOX_FAILED": N_("Import failed: %(why)s"),
    "UNEXPECTED": N_("The import failed unexpectedly; the details are in the server log."),
    "QUEUE_UNAVAILABLE": N_(
        "The job queue (Redis) is not reachable right now. Nothing is lost; try again in a "
        "minute, and ask your administrator if this persists."
    ),
    "JOB_LOST": N_("Started again: the job that carried it was lost."),
    "FORTNOX_TEMPORARY": N_("Fortnox had a temporary problem."),
    "SENDING": N_("Sending to Fortnox."),
    # Pre-checks of an item against the mapping and the imported chart
    "ACCOUNT_UNMAPPED": N_("%(label)s is not mapped: choose an account on the mapping page."),
    "ACCOUNT_MISSING": N_(
        "%(label)s is mapped to account %(number)s, which does not exist in financial year "
        "%(year)s: choose another account on the mapping page."
    ),
    "ACCOUNT_INACTIVE": N_(
        "%(label)s is mapped to account %(number)s, which is inactive in financial year "
        "%(year)s: choose another account on the mapping page."
    ),
    "FINANCIAL_YEAR_MISSING": N_(
        "No financial year imported from Fortnox covers %(date)s: create it in Fortnox, then "
        "refresh the chart."
    ),
    "PERIOD_LOCKED": N_(
        "%(date)s is in a locked period in Fortnox (locked through %(locked)s): unlock it in "
        "Fortnox or use a later date."
    ),
    # Pushing customers and invoices
    "HOST_OBJECT_MISSING": N_(
        "The %(kind)s %(id)s no longer exists in %(product)s, so it cannot be sent. Nothing to fix "
        "in Fortnox; it stays out of the books."
    ),
    "WAITING_FOR_CUSTOMER": N_("Waiting for the customer %(name)s to reach Fortnox first."),
    "CUSTOMER_AMBIGUOUS": N_(
        "%(count)s customers in Fortnox have the organisation number of %(name)s. Choose the "
        "one to use, or create a new customer."
    ),
    "CUSTOMER_NUMBER_TAKEN": N_(
        "Customer number %(number)s is already used in Fortnox by another customer, so %(name)s "
        "could not be created. Change or remove that customer in Fortnox, then press Retry."
    ),
    "CUSTOMER_NUMBER_DELETED": N_(
        "Customer number %(number)s belonged to a customer that was deleted in Fortnox, and "
        "Fortnox never reuses numbers, so %(name)s could not be created. Link %(name)s to a "
        "customer in Fortnox, or ask your administrator to change the prefix of the customer "
        "numbers %(product)s gives."
    ),
    "CUSTOMER_GONE": N_(
        "The customer %(name)s (%(number)s) was deleted in Fortnox. It is not created again by "
        "itself, and Fortnox never gives its number to another customer: add the customer in "
        "Fortnox again, with its organisation number, then press Retry all (it is linked "
        "there)."
    ),
    "TOTALS_DIFFER": N_(
        "Fortnox invoice %(number)s totals %(theirs)s kr, but the invoice in %(product)s "
        "totals %(ours)s kr. Compare the two and correct one of them, then press Retry (it only "
        "re-reads the invoice)."
    ),
    "CHANGED_AFTER_BOOKING": N_(
        "The invoice was changed after Fortnox booked it (Fortnox invoice %(number)s). Credit "
        "it in Fortnox and create a new invoice."
    ),
    "FORTNOX_REFUSED": N_(
        "Fortnox refused it; its message is below. Correct the data in %(product)s or Fortnox, "
        "then press Retry."
    ),
    "RETRYING": N_(
        "Fortnox could not be reached or had a temporary problem; it is tried again by itself "
        "(attempt %(attempts)s)."
    ),
    "RETRIES_EXHAUSTED": N_(
        "Fortnox kept failing after %(attempts)s attempts, so automatic retries stopped. Press "
        "Retry when Fortnox works again."
    ),
    # Pre-checks of a customer or an invoice against what Fortnox accepts (sync/payloads.py)
    "TEXT_TOO_LONG": N_(
        "%(label)s (“%(start)s…”) is longer than Fortnox accepts (at most %(limit)s "
        "characters): shorten it and send again."
    ),
    "COUNTRY_CODE_INVALID": N_(
        "The customer %(name)s has the country code “%(country_code)s”, which is not a two-letter "
        "ISO country code (such as SE or DE): correct it on the customer."
    ),
    "CUSTOMER_NAME_MISSING": N_("The customer has no name, which Fortnox requires: add one."),
    "VAT_TYPE_UNSUPPORTED": N_(
        "The customer's VAT type “%(vat_type)s” is not one the plugin can send (SEVAT, "
        "EUREVERSEDVAT or EXPORT): correct it on the customer."
    ),
    "VAT_RATE_UNSUPPORTED": N_(
        "The row “%(start)s” has %(rate)s %% VAT; Fortnox only accepts 25, 12, 6 or 0 %% for "
        "Swedish sales: correct the row's VAT rate."
    ),
    "INVOICE_EMPTY": N_("Invoice %(number)s has no rows: Fortnox does not accept an empty "
                        "invoice."),
    "AMOUNT_TOO_LARGE": N_(
        "The amount %(amount)s is too large to send to Fortnox exactly: check the rows, or "
        "split the invoice."
    ),
    # Vouchers (host payouts) to Fortnox
    "VOUCHER_SERIES_INVALID": N_(
        "Vouchers go to series %(series)s, which is not a manual series in Fortnox (it does "
        "not exist, or Fortnox fills it by itself): choose a manual series on the mapping "
        "page, or add it in Fortnox and refresh the chart, then press Retry."
    ),
    "VOUCHER_UNBALANCED": N_(
        "The voucher “%(description)s” does not balance: debit %(debit)s kr, credit %(credit)s "
        "kr (to the öre). It was not sent to Fortnox: correct it in %(product)s."
    ),
    "VOUCHER_TOO_FEW_ROWS": N_(
        "The voucher “%(description)s” has fewer than two rows, which Fortnox does not accept: "
        "correct it in %(product)s."
    ),
    "VOUCHER_ROW_ACCOUNT": N_(
        "A row of the voucher “%(description)s” names no account (or both an account and a "
        "mapping key): correct it in %(product)s."
    ),
    "VOUCHER_ACCOUNT_MISSING": N_(
        "A voucher row books to account %(number)s, which does not exist in financial year "
        "%(year)s: add it in Fortnox and refresh the chart, or correct the row."
    ),
    "VOUCHER_ACCOUNT_INACTIVE": N_(
        "A voucher row books to account %(number)s, which is inactive in financial year "
        "%(year)s: activate it in Fortnox and refresh the chart, or correct the row."
    ),
    "VOUCHER_CHANGED": N_(
        "The voucher was changed in %(product)s after it was booked in Fortnox as %(number)s. "
        "Fortnox vouchers cannot be changed: book a correcting voucher in Fortnox."
    ),
    # Mapping warnings (they do not block saving)
    "MAPPING_RANGE": N_(
        "%(label)s is usually an account between %(low)s and %(high)s; check with your "
        "accountant."
    ),
    "ACCOUNT_MISSING_IN_YEAR": N_("Account %(number)s is missing in financial year %(year)s."),
    "ACCOUNT_INACTIVE_IN_YEAR": N_("Account %(number)s is inactive in financial year %(year)s."),
}

#: code -> ((singular, plural), the parameter that counts): texts that need plural forms.
PLURAL_TEXTS: dict[str, tuple[tuple[str, str], str]] = {
    "IMPORT_DONE": (
        N_plural("Imported %(num)s financial year and its chart.",
                 "Imported %(num)s financial years and their charts."),
        "years",
    ),
    "SYNC_DONE": (
        N_plural("Sent %(num)s item to Fortnox.", "Sent %(num)s items to Fortnox."),
        "sent",
    ),
    "SYNC_WAITING": (
        N_plural("Sent %(sent)s so far; %(num)s item is still waiting and goes to Fortnox by "
                 "itself.",
                 "Sent %(sent)s so far; %(num)s items are still waiting and go to Fortnox by "
                 "themselves."),
        "waiting",
    ),
}


def is_code(value: str | None) -> bool:
    """Whether ``value`` is one of our codes (older rows hold an English sentence instead)."""
    return value in TEXTS or value in PLURAL_TEXTS


def reason_text(code: str | None, params: Mapping[str, Any] | None = None) -> str:
    """The owner's sentence for a stored code, in the current request's language."""
    if not code:
        return ""
    values = dict(params or {})
    if "label" in values:  # a mapping key's label is stored as its English msgid
        values["label"] = gettext(str(values["label"]))
    if code in PLURAL_TEXTS:
        (singular, plural), counter = PLURAL_TEXTS[code]
        return ngettext(singular, plural, int(values.get(counter, 0)), **values)
    if code in TEXTS:
        return gettext(TEXTS[code], **values)
    return gettext(code)  # a sentence stored before codes existed (still a msgid)


@dataclass(frozen=True)
class Reason:
    """A code with its parameters; ``str()`` renders it in the current language."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        """Words the code when shown, so a template prints a Reason in the owner's language."""
        return reason_text(self.code, self.params)


class Problem(Exception):
    """Why an item cannot go on until someone acts: a reason code and its parameters, stored
    as they are (``reason`` words them in the current language)."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)

    @property
    def reason(self) -> str:
        """The owner's sentence for the code, in the current language."""
        return str(Reason(self.code, self.params))
