"""The help article's steps 2 to 6 in a real browser: connect through the sandbox's consent
page, see the success notification and the Connected card, then map accounts.

Each test gets a host and a sandbox of its own (``fresh_live_server``): connecting and
mapping change what the next test would see, so no test may depend on another's leftovers."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .test_tenant_menu import log_in


def open_integrations(page: Page) -> None:
    page.locator("summary", has_text="Acme Konsult AB").click()
    page.get_by_role("link", name="Integrations").click()
    expect(page.locator("#fortnox-card")).to_be_visible()


def connect(page: Page, live_server: str) -> None:
    log_in(page, live_server, "owner@acme.test")
    open_integrations(page)
    card = page.locator("#fortnox-card")
    expect(card.get_by_test_id("fortnox-status")).to_have_text("Not connected")
    card.get_by_role("button", name="Connect Fortnox").click()
    # Fortnox's consent page (the sandbox): the scopes we ask for, and Grant Access.
    expect(page.get_by_role("button", name="Grant Access")).to_be_visible()
    page.get_by_role("button", name="Grant Access").click()
    expect(page).to_have_url(re.compile(r"/integrations/$"))


@pytest.mark.browser
def test_owner_connects_fortnox_and_sees_the_connected_card(
    page: Page, fresh_live_server: str
) -> None:
    log_in(page, fresh_live_server, "owner@acme.test")
    open_integrations(page)
    page.locator("#fortnox-card").get_by_role("button", name="Connect Fortnox").click()

    expect(page.get_by_text("Bookkeeping", exact=False).first).to_be_visible()
    expect(page.get_by_role("button", name="Deny")).to_be_visible()
    page.get_by_role("button", name="Grant Access").click()

    expect(page).to_have_url(re.compile(r"/integrations/$"))
    expect(page.get_by_text("Fortnox is connected to Demo Bygg AB")).to_be_visible()
    card = page.locator("#fortnox-card")
    expect(card.get_by_test_id("fortnox-status")).to_have_text("Connected")
    expect(card.get_by_test_id("fortnox-company")).to_contain_text("Demo Bygg AB")
    # The import runs on the embedded worker; the card polls until it is done.
    expect(card.get_by_test_id("fortnox-last-sync")).not_to_have_text("Not yet", timeout=20_000)
    expect(card.get_by_test_id("fortnox-mapping-summary")).to_contain_text("Mapping complete")
    page.screenshot(path="/tmp/fortnox-connected.png", full_page=True)


@pytest.mark.browser
def test_owner_maps_an_account_and_the_card_follows(
    page: Page, fresh_live_server: str
) -> None:
    connect(page, fresh_live_server)
    expect(page.locator("#fortnox-card").get_by_test_id("fortnox-last-sync")).not_to_have_text(
        "Not yet", timeout=20_000
    )
    page.get_by_role("link", name="Account mapping").click()
    expect(page.get_by_role("heading", name="Account mapping")).to_be_visible()
    # Every key prefilled from the sandbox's predefined accounts, marked suggested.
    field = page.get_by_label("Sales 12 %")
    expect(field).to_have_value("3002")
    expect(page.get_by_test_id("field-sales_12-status")).to_contain_text("suggested")

    # An inactive account: inline validation says so, and saving is refused.
    field.fill("3590")
    field.press("Tab")
    status = page.get_by_test_id("field-sales_12-status")
    expect(status).to_contain_text("is inactive in")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Not saved: 1 field needs another account.")).to_be_visible()

    # Clearing a key makes the card's indicator say what is missing.
    page.get_by_label("Sales 12 %").fill("")
    page.get_by_role("button", name="Save mapping").click()
    summary = page.locator("#fortnox-card").get_by_test_id("fortnox-mapping-summary")
    expect(summary).to_have_text("Mapping incomplete: 1 account missing")

    page.get_by_label("Sales 12 %").fill("3002")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Account mapping saved. The mapping is complete.")).to_be_visible()
    expect(summary).to_have_text("Mapping complete")
    expect(page.get_by_test_id("field-sales_12-status")).not_to_contain_text("suggested")
    page.screenshot(path="/tmp/fortnox-mapping.png", full_page=True)
