"""The help article's first step, in a real browser: company name -> tenant menu ->
Integrations, for owners only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

SCREENSHOT = "/tmp/owner-integrations.png"


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


@pytest.mark.browser
def test_owner_opens_integrations_from_the_tenant_menu(page: Page, live_server: str) -> None:
    log_in(page, live_server, "owner@acme.test")
    integrations = page.get_by_role("link", name="Integrations")
    expect(integrations).to_be_hidden()  # the menu is closed at first

    page.locator("summary", has_text="Acme Konsult AB").click()  # the company's name
    expect(integrations).to_be_visible()
    expect(page.get_by_role("button", name="Globex Event AB")).to_be_visible()
    integrations.click()

    expect(page).to_have_url(re.compile(r"/integrations/$"))
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()
    card = page.locator("#fortnox-card")
    expect(card).to_be_visible()
    expect(card.get_by_role("heading", name="Fortnox")).to_be_visible()
    # Connected or not depends on the journey tests sharing this server: the status shows.
    expect(card.get_by_test_id("fortnox-status")).to_be_visible()
    expect(page.locator(".sidebar")).to_be_visible()  # inside the host's layout
    page.screenshot(path=SCREENSHOT, full_page=True)


#: Every page of the plugin an owner opens (GET): none of them for anyone else.
PLUGIN_PAGES = ("/integrations/", "/integrations/fortnox/status", "/integrations/fortnox/mapping",
                "/integrations/fortnox/log", "/integrations/fortnox/preview",
                "/integrations/fortnox/vouchers", "/integrations/fortnox/disconnect",
                "/integrations/fortnox/switch-company", "/integrations/fortnox/health")


@pytest.mark.browser
@pytest.mark.parametrize(("email", "company"), [
    ("coordinator@acme.test", "Acme Konsult AB"),
    ("performer@acme.test", "Acme Konsult AB"),
    # Owner of Acme, but only coordinator of Globex: what counts is the company he is in.
    ("owner@acme.test", "Globex Event AB"),
], ids=["coordinator", "performer", "owner-switched-to-a-company-he-coordinates"])
def test_no_integrations_link_and_403_for_anyone_but_the_owner(
    page: Page, live_server: str, email: str, company: str
) -> None:
    log_in(page, live_server, email)
    menu = page.locator("summary.tenant-menu, details.tenant-menu > summary")
    if company not in menu.inner_text():
        menu.click()
        page.get_by_role("button", name=company).click()
        expect(menu).to_contain_text(company)
    menu.click()
    expect(page.locator(".tenant-panel")).to_be_visible()
    expect(page.get_by_role("link", name="Integrations")).to_have_count(0)

    for path in PLUGIN_PAGES:
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 403, path
    expect(page.get_by_role("heading", name="Access denied")).to_be_visible()


@pytest.mark.browser
def test_coordinator_writes_and_sends_an_invoice(page: Page, live_server: str) -> None:
    log_in(page, live_server, "coordinator@acme.test")
    page.get_by_role("link", name="Invoices").click()
    page.get_by_role("link", name="New invoice").click()
    page.get_by_label("Customer").select_option(label="Bergström Bygg AB")
    page.get_by_label("Description", exact=True).first.fill("Konsulttimmar")
    page.get_by_label("Quantity", exact=True).first.fill("2")
    page.get_by_label("Unit price", exact=True).first.fill("1 234,50")
    page.get_by_label("Description", exact=True).nth(1).fill("Konferenslunch")
    page.get_by_label("Quantity", exact=True).nth(1).fill("10")
    page.get_by_label("Unit price", exact=True).nth(1).fill("145")
    page.get_by_label("VAT", exact=True).nth(1).select_option("12")
    page.get_by_role("button", name="Create invoice").click()

    expect(page.get_by_text("Invoice created as a draft.")).to_be_visible()
    expect(page.get_by_test_id("invoice-net")).to_have_text("SEK\u00a03,919.00")
    expect(page.get_by_test_id("invoice-vat-25")).to_have_text("SEK\u00a0617.25")
    expect(page.get_by_test_id("invoice-vat-12")).to_have_text("SEK\u00a0174.00")
    expect(page.get_by_test_id("invoice-total")).to_have_text("SEK\u00a04,710.25")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Invoice sent.")).to_be_visible()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Sent")
    page.screenshot(path="/tmp/invoice-sent.png", full_page=True)
