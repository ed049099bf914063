"""Issue 17, defect 1 in a real browser: the owner follows the success notice to the account
mapping at once, while the first import still runs (the sandbox answers slowly, as Fortnox
does with a large chart)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .owner_host import OwnerHost, connect, owner_host  # noqa: F401 (the fixture)


@pytest.mark.browser
def test_the_mapping_opened_during_the_import_waits_then_shows_the_suggestions(
    page: Page, owner_host: OwnerHost  # noqa: F811
) -> None:
    owner_host.sandbox.admin("POST", "/_admin/faults", json={"latency_ms": 400})
    try:
        connect(page, owner_host.url, wait=False)
        page.goto(f"{owner_host.url}/integrations/fortnox/mapping")
        expect(page.get_by_test_id("fortnox-mapping-importing")).to_contain_text(
            "Importing your chart of accounts…")
        expect(page.get_by_role("button", name="Save mapping")).to_be_disabled()
    finally:
        owner_host.sandbox.admin("POST", "/_admin/faults", json={})
    # No reload: the form refreshes itself when the import ends, with the suggestions.
    expect(page.get_by_label("Sales 12 %")).to_have_value("3002", timeout=30_000)
    expect(page.get_by_test_id("fortnox-mapping-importing")).to_have_count(0)
    expect(page.get_by_test_id("field-sales_12-status")).to_contain_text("suggested")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Account mapping saved. The mapping is complete.")).to_be_visible()
    expect(page.get_by_label("Bank")).to_have_value("1930")
