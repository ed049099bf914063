"""Issue 17 in a real browser: the mapping and log pages at 320 px, and the plugin's pages
inside a host whose CSS is generic (Flask's tutorial app, flaskr)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .owner_host import OwnerHost, connect, owner_host  # noqa: F401 (the fixture)

#: flaskr's style.css rules that reach a plugin page (``.content`` there is ``.main`` in the
#: example host's layout), and the generic element rules a tutorial host writes.
FLASKR_CSS = """
.main form { margin: 1em 0; display: flex; flex-direction: column; }
.main label { font-weight: bold; margin-bottom: 0.5em; }
.main input, .main textarea { margin-bottom: 1em; }
input[type=submit] { align-self: start; min-width: 10em; }
button { display: block; margin: auto; }
label { font-weight: bold; }
"""


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} is {width} px wide in a {viewport} px window"


@pytest.mark.browser
def test_the_mapping_and_log_pages_are_readable_at_320_px(
    page: Page, owner_host: OwnerHost  # noqa: F811
) -> None:
    connect(page, owner_host.url)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{owner_host.url}/integrations/fortnox/mapping")
    expect(page.get_by_label("Sales 12 %")).to_be_visible()
    no_sideways_scroll(page)
    # A refused save: the errors and the summary must fit too.
    page.get_by_label("Sales 12 %").fill("3590")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Not saved: 1 field needs another account.")).to_be_visible()
    no_sideways_scroll(page)
    with owner_host.app.app_context():  # an item that needs the owner, with its reason
        from aourly_fortnox.models import RecordState, SyncRecord
        from aourly_fortnox.queries import get_connection
        from aourly_fortnox.state import state as plugin_state

        conn = get_connection("acme")
        assert conn is not None and conn.database_number is not None
        db = plugin_state(owner_host.app).db
        db.session.add(SyncRecord(
            company_id="acme", database_number=conn.database_number, object_type="invoice",
            object_id="7", label="2026-0007 · Bergström Bygg och Fastighetsförvaltning AB",
            state=RecordState.NEEDS_ATTENTION, error_code="ACCOUNT_UNMAPPED",
            error_params={"label": "Sales 25 %"}, fortnox_code=2000423,
            fortnox_message="Kontot 3001 finns inte i kontoplanen för räkenskapsåret"))
        db.session.commit()
    for state in ("waiting", "needs_attention", "synced"):
        page.goto(f"{owner_host.url}/integrations/fortnox/log?state={state}")
        expect(page.get_by_role("heading", name="Sync log")).to_be_visible()
        if state == "needs_attention":
            expect(page.get_by_test_id("fortnox-log-item")).to_contain_text("Bergström")
        no_sideways_scroll(page)
    for rest in ("", "fortnox/vouchers", "fortnox/preview", "fortnox/disconnect"):
        page.goto(f"{owner_host.url}/integrations/{rest}")
        no_sideways_scroll(page)


@pytest.mark.browser
def test_a_hosts_generic_css_does_not_break_the_plugins_pages(
    page: Page, owner_host: OwnerHost  # noqa: F811
) -> None:
    connect(page, owner_host.url)
    page.goto(f"{owner_host.url}/integrations/fortnox/disconnect")
    page.add_style_tag(content=FLASKR_CSS)
    disconnect = page.get_by_role("button", name="Disconnect")
    cancel = page.get_by_role("link", name="Cancel")
    first, second = disconnect.bounding_box(), cancel.bounding_box()
    assert first and second
    # Side by side, left to right, not stacked and centred.
    assert abs(first["y"] - second["y"]) < 8, (first, second)
    assert first["x"] + first["width"] <= second["x"]
    page.goto(f"{owner_host.url}/integrations/fortnox/mapping")
    page.add_style_tag(content=FLASKR_CSS)
    checkbox_label = page.locator("label", has=page.locator("input[name=bookkeep_invoices]"))
    weight = checkbox_label.evaluate("element => getComputedStyle(element).fontWeight")
    assert int(weight) < 600
    save = page.get_by_role("button", name="Save mapping").bounding_box()
    field = page.get_by_label("Sales 25 %").bounding_box()
    assert save and field
    assert save["x"] < field["x"] + 400  # not pushed to the middle of the page by margin:auto
