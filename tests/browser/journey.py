"""What the article's journey does in the browser, step by step, for the journey test and for
``make screenshots`` (which runs the same test with ``AOURLY_SCREENSHOTS`` set).

The host is deployed-like (``journey_host`` in conftest.py): a real worker process takes the
jobs, so every wait here is for something the owner would see, never a fixed sleep.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from example_host.parsing import luhn_check_digit
from example_host.parsing import today as stockholm_today

from .axe_scan import describe, violations

#: The sandbox's first company, the one the consent page preselects.
DB = 1001
#: How long the worker may take for anything the owner waits for (generous for 2 busy cores).
SLOW = 30_000


class Shots:
    """Each state the journey stops at: an axe-core scan always (the card states the
    accessibility test cannot reach: syncing with progress, needs attention, disconnected with
    held items), and screenshots for the README when ``AOURLY_SCREENSHOTS`` names a folder
    (``make screenshots`` sets it to docs/screenshots). Cards are cropped to the card."""

    def __init__(self, folder: str | None) -> None:
        self.folder = Path(folder) if folder else None
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        self.found: dict[str, str] = {}
        self.scanned: list[str] = []

    @classmethod
    def from_env(cls) -> Shots:
        return cls(os.environ.get("AOURLY_SCREENSHOTS"))

    def _scan(self, page: Page, name: str) -> None:
        self.scanned.append(name)
        found = violations(page)
        if found:
            self.found[name] = describe(found)

    def card(self, page: Page, name: str) -> None:
        self._scan(page, f"card {name}")
        if self.folder is not None:
            page.mouse.move(0, 0)  # no hover colour on whatever the last click left
            page.locator("#fortnox-card").screenshot(path=self.folder / f"card-{name}.png",
                                                     animations="disabled")

    def page(self, page: Page, name: str) -> None:
        self._scan(page, f"page {name}")
        if self.folder is not None:
            page.mouse.move(0, 0)
            page.screenshot(path=self.folder / f"page-{name}.png", full_page=True,
                            animations="disabled")

    def assert_accessible(self) -> None:
        """0 serious or critical axe violations (and no empty table header) in every state
        the journey stopped at."""
        assert not self.found, "\n\n".join(f"{n}:\n{t}" for n, t in self.found.items())


def card(page: Page) -> Locator:
    return page.locator("#fortnox-card")


def status(page: Page) -> Locator:
    return card(page).get_by_test_id("fortnox-status")


def go_to_integrations(page: Page, base: str) -> None:
    page.goto(f"{base}/integrations/")
    expect(card(page)).to_be_visible()


def grant_access(page: Page) -> None:
    """Fortnox's consent page (the sandbox's): the scopes asked for, and Grant Access."""
    expect(page.get_by_role("button", name="Deny")).to_be_visible()
    page.get_by_role("button", name="Grant Access").click()
    expect(page).to_have_url(re.compile(r"/integrations/$"))


def connect(page: Page) -> None:
    expect(status(page)).to_have_text("Not connected")
    card(page).get_by_role("button", name="Connect Fortnox").click()
    grant_access(page)
    expect(page.get_by_text("Fortnox is connected to Demo Bygg AB")).to_be_visible()
    expect(status(page)).to_have_text("Connected")


def sync_now(page: Page) -> None:
    """Press Sync now on the card and wait until the run has ended (the card polls)."""
    button = card(page).get_by_role("button", name="Sync now")
    expect(button).to_be_enabled(timeout=SLOW)  # no run going on already
    button.click()
    expect(card(page).get_by_role("button", name="Sync now")).to_be_disabled()
    expect(card(page).get_by_role("button", name="Sync now")).to_be_enabled(timeout=SLOW)


def eventually(page: Page, what: str, check: Callable[[], bool], timeout: float = 30) -> None:
    """Reload ``page`` until ``check()`` holds: for pages that do not refresh themselves
    (the sync log, an invoice's badge), as an owner would press reload."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        page.wait_for_timeout(300)
        page.reload()


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 30) -> Any:
    """Poll ``probe`` (the sandbox's admin API) until it returns something true."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def org_number(nine: str) -> str:
    """A valid Swedish organisation number (Luhn check digit) from nine digits."""
    return f"{nine[:6]}-{nine[6:]}{luhn_check_digit(nine)}"


def new_customer(page: Page, base: str, name: str, nine: str) -> None:
    page.goto(f"{base}/customers/new")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Organisation number").fill(org_number(nine))
    page.get_by_label("Email").fill("ekonomi@example.se")
    page.get_by_label("Address").fill("Drottninggatan 1")
    page.get_by_label("Postal code").fill("111 51")
    page.get_by_label("City").fill("Stockholm")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Customer saved.")).to_be_visible()


def send_invoice(page: Page, base: str, customer: str, text: str, price: str) -> str:
    """Create a one-row invoice and send it; its number (as the host shows it)."""
    page.goto(f"{base}/invoices/new")
    page.get_by_label("Customer").select_option(label=customer)
    page.get_by_label("Description", exact=True).first.fill(text)
    page.get_by_label("Quantity", exact=True).first.fill("1")
    page.get_by_label("Unit price", exact=True).first.fill(price)
    page.get_by_role("button", name="Create invoice").click()
    expect(page.get_by_text("Invoice created as a draft.")).to_be_visible()
    heading = page.get_by_role("heading", level=1).inner_text()
    number = re.search(r"#(\S+)", heading)
    assert number, heading
    page.get_by_test_id("send-invoice").click()
    expect(page.get_by_text("Invoice sent.")).to_be_visible()
    # Handed to the plugin in the same commit: the host's fallback warning never shows.
    expect(page.get_by_text("could not be handed to Fortnox")).to_have_count(0)
    return number.group(1)


def sandbox_invoices(sandbox: Any) -> list[dict[str, Any]]:
    invoices: list[dict[str, Any]] = sandbox.admin("GET", f"/companies/{DB}/invoices")
    return invoices


def sandbox_invoice(sandbox: Any, number: str) -> dict[str, Any] | None:
    """The invoice the host numbered ``number``, as Fortnox holds it (or None)."""
    for invoice in sandbox_invoices(sandbox):
        if invoice.get("ExternalInvoiceReference2") == number:
            return invoice
    return None


def requests_to_fortnox(sandbox: Any) -> int:
    """Every ``/3/`` request and token call the sandbox has answered so far."""
    stats = sandbox.stats()
    return sum(row.get("requests", 0) + row.get("token", 0) for row in stats.values())


def today() -> str:
    """Today in Stockholm, as the host and the sandbox date things."""
    return stockholm_today().isoformat()
