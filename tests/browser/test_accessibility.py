"""axe-core (axe-playwright-python, the engine shipped inside the package) on every plugin
page, in each card state a test can reach: 0 serious or critical violations (and no empty
table header, which axe rates minor).

Pages: Integrations (not connected, just connected while the first import may still run,
connected, expired, disconnected), the disconnect confirmation, the account mapping (as
opened and after a refused save), the sync log, the preview, the vouchers, and the 403 page a
coordinator gets."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .axe_scan import describe, violations
from .owner_host import OwnerHost, connect, owner_host  # noqa: F401 (the fixture)
from .test_tenant_menu import log_in


@pytest.mark.browser
def test_every_plugin_page_has_no_serious_or_critical_axe_violation(
    page: Page, owner_host: OwnerHost  # noqa: F811
) -> None:
    url = owner_host.url
    found: dict[str, list[dict[str, Any]]] = {}

    def scan(name: str) -> None:
        found[name] = violations(page)

    log_in(page, url, "owner@acme.test")
    page.goto(f"{url}/integrations/")
    expect(page.get_by_test_id("fortnox-status")).to_have_text("Not connected")
    scan("integrations, not connected")

    page.get_by_role("button", name="Connect Fortnox").click()
    page.get_by_role("button", name="Grant Access").click()
    expect(page.get_by_test_id("fortnox-status")).to_have_text("Connected")
    scan("integrations, just connected (the first import may still run)")
    page.goto(f"{url}/integrations/fortnox/mapping")
    scan("mapping, opened at once")
    page.goto(f"{url}/integrations/")
    expect(page.get_by_test_id("fortnox-last-sync")).not_to_have_text("Not yet", timeout=30_000)
    scan("integrations, connected")

    page.goto(f"{url}/integrations/fortnox/mapping")
    expect(page.get_by_label("Sales 12 %")).to_have_value("3002")
    scan("mapping")
    page.get_by_label("Sales 12 %").fill("3590")
    page.get_by_label("Sales 12 %").press("Tab")
    expect(page.get_by_test_id("field-sales_12-status")).to_contain_text("is inactive in")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Not saved: 1 field needs another account.")).to_be_visible()
    scan("mapping, refused save")

    for state in ("waiting", "needs_attention", "synced"):
        page.goto(f"{url}/integrations/fortnox/log?state={state}")
        scan(f"sync log, {state}")
    page.goto(f"{url}/integrations/fortnox/preview")
    scan("preview")
    page.goto(f"{url}/integrations/fortnox/preview?earlier=1")
    scan("preview, earlier invoices")
    page.goto(f"{url}/integrations/fortnox/vouchers")
    scan("vouchers")
    page.goto(f"{url}/integrations/fortnox/disconnect")
    scan("disconnect confirmation")

    owner_host.expire()
    page.goto(f"{url}/integrations/")
    expect(page.get_by_test_id("fortnox-status")).to_have_text("Expired")
    scan("integrations, expired")

    page.goto(f"{url}/integrations/fortnox/disconnect")
    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_test_id("fortnox-status")).to_have_text("Disconnected")
    scan("integrations, disconnected")
    page.goto(f"{url}/integrations/fortnox/mapping")
    scan("mapping, disconnected")

    page.get_by_role("button", name="Log out").click()
    log_in(page, url, "coordinator@acme.test")
    response = page.goto(f"{url}/integrations/")
    assert response is not None and response.status == 403
    expect(page.get_by_text("Only the company's owners can manage integrations.")).to_be_visible()
    scan("403 for a coordinator")

    failing = {name: describe(v) for name, v in found.items() if v}
    assert not failing, "\n\n".join(f"{name}:\n{text}" for name, text in failing.items())
    assert len(found) >= 16  # every page above was scanned
