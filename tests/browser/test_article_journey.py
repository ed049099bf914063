"""The help article, walked in a real browser against a deployed-like example host: the web
app under a real server, a real `flask fortnox worker` process on Redis, PostgreSQL, and the
Fortnox sandbox over loopback (``journey_host`` in conftest.py).

One journey, in the article's order: connect, map (opening the mapping page during the
import), invoices and customers to Fortnox, payouts as vouchers and vouchers back, a new
account, an expired authorization and Reconnect, a failure with its reason and Retry, and
Disconnect. ``make screenshots`` runs this same test with ``AOURLY_SCREENSHOTS`` set: the
README's pictures are what the journey saw.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from aourly_fortnox.models import WorkerHeartbeat, utcnow

from .conftest import JourneyHost
from .journey import (
    DB,
    SLOW,
    Shots,
    card,
    connect,
    eventually,
    go_to_integrations,
    grant_access,
    new_customer,
    requests_to_fortnox,
    sandbox_invoice,
    send_invoice,
    status,
    sync_now,
    today,
    wait_for,
)
from .test_fortnox_journey import open_integrations  # the article's first step
from .test_tenant_menu import log_in

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.postgres]

NEW_CUSTOMER = "Journey Kafé AB"


def test_the_article_from_connect_to_disconnect(page: Page, journey_host: JourneyHost) -> None:
    host, sandbox, base = journey_host, journey_host.sandbox, journey_host.url
    shots = Shots.from_env()
    page.set_viewport_size({"width": 1000, "height": 800})

    # -- 1. Log in as owner, Integrations from the tenant menu, Connect, Grant Access --------
    log_in(page, base, "owner@acme.test")
    open_integrations(page)
    shots.card(page, "not-connected")
    # The worker is busy elsewhere for a moment, so the first import is still to come when
    # the owner follows the success notice's invitation to the mapping page.
    with host.worker_paused():
        connect(page)
        expect(card(page).get_by_test_id("fortnox-progress")).to_be_visible()
        shots.card(page, "importing")

        # -- 2. The mapping page at once, during the import (issue 17, defect 1) -------------
        card(page).get_by_role("link", name="Account mapping").click()
        expect(page.get_by_role("heading", name="Account mapping")).to_be_visible()
        save = page.get_by_role("button", name="Save mapping")
        expect(page.get_by_text("Importing your chart of accounts…")).to_be_visible()
        expect(save).to_be_disabled()
    # The form refreshes itself when the import ends: the suggestions arrive, untouched.
    sales_12 = page.get_by_label("Sales 12 %")
    expect(sales_12).to_have_value("3002", timeout=SLOW)
    expect(page.get_by_test_id("field-sales_12-status")).to_contain_text("suggested")
    expect(save).to_be_enabled()
    # ... and the rest of the page follows: nothing above the form still counts accounts as
    # missing that the refreshed form shows filled in.
    expect(page.get_by_text(re.compile(r"\d+ accounts? missing"))).to_have_count(0)
    save.click()
    expect(page.get_by_text("Account mapping saved. The mapping is complete.")).to_be_visible()
    expect(sales_12).to_have_value("3002")  # saving kept every suggestion
    shots.page(page, "mapping")

    # -- 3. Connected, with a last sync -------------------------------------------------------
    go_to_integrations(page, base)
    expect(status(page)).to_have_text("Connected")
    expect(card(page).get_by_test_id("fortnox-last-sync")).not_to_have_text("Not yet",
                                                                              timeout=SLOW)
    expect(card(page).get_by_test_id("fortnox-mapping-summary")).to_have_text("Mapping complete")
    shots.card(page, "connected")

    # The invoices sent before connecting: a preview first, then they go with the next sync,
    # which counts them on the card (the worker finishes what it was doing first).
    sandbox.faults(latency_ms=100)  # slow enough to watch the card count them
    with host.worker_paused():
        card(page).get_by_role("button", name="Sync now").click()
        expect(card(page).get_by_test_id("fortnox-progress")).to_be_visible()
        card(page).get_by_test_id("fortnox-earlier").get_by_role("link").click()
        expect(page.get_by_test_id("fortnox-preview-payload")).to_be_visible()
        shots.page(page, "preview")
        page.get_by_test_id("fortnox-send-earlier").click()
        expect(page.get_by_text("4 earlier invoices will be sent")).to_be_visible()
    progress = card(page).get_by_test_id("fortnox-progress")
    expect(progress).to_contain_text(re.compile(r"Sending \d+ of \d+"), timeout=SLOW)
    shots.card(page, "syncing")
    expect(progress).to_be_hidden(timeout=SLOW)
    sandbox.faults()
    expect(card(page).get_by_test_id("fortnox-earlier")).to_have_count(0)

    # -- 4. An invoice for a new customer: both in Fortnox ----------------------------------
    new_customer(page, base, NEW_CUSTOMER, "559021234")
    number = send_invoice(page, base, NEW_CUSTOMER, "Fika för konferensen", "1 200")
    in_fortnox = wait_for(f"invoice {number} in the sandbox",
                          lambda: sandbox_invoice(sandbox, number), timeout=SLOW / 1000)
    assert in_fortnox["CustomerName"] == NEW_CUSTOMER
    assert Decimal(str(in_fortnox["Total"])) == Decimal("1500")  # 1 200 + 25 % VAT
    eventually(page, "the invoice's Synced badge",
               lambda: page.get_by_test_id("sync-synced").count() == 1)
    page.goto(sandbox.url)  # the sandbox's own view: what an accountant would see
    company = page.locator(f"#company-{DB}")
    expect(company.get_by_role("cell", name=NEW_CUSTOMER, exact=True)).to_be_visible()
    expect(company.get_by_role("cell", name=f"{in_fortnox['CustomerNumber']} {NEW_CUSTOMER}")
           ).to_be_visible()

    # -- 5. A payout goes as a voucher; a voucher made in Fortnox comes back ----------------
    page.goto(f"{base}/payouts/new")
    page.get_by_label("Performer").select_option(label="Pia Persson")
    page.get_by_label("Amount").fill("2 400,00")
    page.get_by_label("Description").fill("Moderator kickoff")
    page.get_by_role("button", name="Record payout").click()
    expect(page.get_by_text("Payout recorded.")).to_be_visible()
    ours = wait_for("the payout's voucher in the sandbox", lambda: [
        v for v in sandbox.admin("GET", f"/companies/{DB}/vouchers")
        if "Moderator kickoff" in v["Description"]], timeout=SLOW / 1000)
    assert len(ours) == 1
    sandbox.admin("POST", f"/companies/{DB}/vouchers", {"Voucher": {
        "VoucherSeries": "A", "Description": "Kontorsmaterial, kontant",
        "TransactionDate": today(),
        "VoucherRows": [{"Account": 6110, "Debit": 450}, {"Account": 1930, "Credit": 450}],
    }})
    # -- 6. An account added in Fortnox: Sync now, and it can be mapped ----------------------
    sandbox.admin("POST", f"/companies/{DB}/accounts", {"Account": {
        "Number": 3005, "Description": "Försäljning kurser", "VATCode": "MP1", "Active": True}})
    go_to_integrations(page, base)
    sync_now(page)
    card(page).get_by_test_id("fortnox-vouchers-link").click()
    vouchers = page.get_by_test_id("fortnox-vouchers")
    expect(vouchers.get_by_text("Kontorsmaterial, kontant")).to_be_visible()
    expect(vouchers.get_by_role("row").filter(has_text="Moderator kickoff")
           ).to_contain_text("Sent from Aourly")

    page.goto(f"{base}/integrations/fortnox/mapping")
    sales_25 = page.get_by_label("Sales 25 %")
    expect(page.locator("#fortnox-accounts option[value='3005']")).to_have_count(1)
    sales_25.fill("3005")
    sales_25.press("Tab")
    expect(page.get_by_test_id("field-sales_25-status")).to_contain_text("Försäljning kurser")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Account mapping saved. The mapping is complete.")).to_be_visible()

    # -- 7. The authorization expires: the warning, Reconnect, the mapping kept -------------
    sandbox.expire_tokens(refresh=True)
    go_to_integrations(page, base)
    card(page).get_by_role("button", name="Sync now").click()  # work that needs Fortnox
    expect(status(page)).to_have_text("Expired", timeout=SLOW)
    expect(card(page).get_by_test_id("fortnox-expired")).to_contain_text(
        "The Fortnox authorization has expired.")
    shots.card(page, "expired")
    card(page).get_by_role("button", name="Reconnect").click()
    grant_access(page)
    expect(status(page)).to_have_text("Connected")
    page.goto(f"{base}/integrations/fortnox/mapping")
    expect(page.get_by_label("Sales 25 %")).to_have_value("3005")
    expect(page.get_by_label("Sales 12 %")).to_have_value("3002")

    # -- 8. A broken mapping: the invoice fails with its reason; fixed, Retry, synced --------
    # The accountant deactivates the account in Fortnox; the next sync reads the chart.
    sandbox.admin("POST", f"/companies/{DB}/accounts", {"Account": {
        "Number": 3005, "Description": "Försäljning kurser", "Active": False}})
    go_to_integrations(page, base)
    sync_now(page)
    failing = send_invoice(page, base, NEW_CUSTOMER, "Konferensrum", "800")
    go_to_integrations(page, base)
    expect(card(page).get_by_test_id("fortnox-attention")).to_have_text("1 needs attention",
                                                                         timeout=SLOW)
    shots.card(page, "needs-attention")
    card(page).get_by_test_id("fortnox-attention").click()
    item = page.get_by_test_id("fortnox-log-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(f"Invoice {failing}")
    expect(item).to_contain_text("Sales 25 % is mapped to account 3005, which is inactive")
    # Readable at 1000 px: no word broken over lines (the row's Retry on one line, as the
    # Retry all button above the table is).
    one_line = page.get_by_role("button", name="Retry all").bounding_box()
    retry = item.get_by_role("button", name="Retry").bounding_box()
    assert one_line and retry and retry["height"] <= one_line["height"], (retry, one_line)
    shots.page(page, "sync-log")
    assert sandbox_invoice(sandbox, failing) is None

    item.get_by_role("link", name="mapping", exact=False).click()  # the reason's fix
    expect(page.get_by_role("heading", name="Account mapping")).to_be_visible()
    page.get_by_label("Sales 25 %").fill("3001")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Account mapping saved. The mapping is complete.")).to_be_visible()
    page.goto(f"{base}/integrations/fortnox/log?state=needs_attention")
    page.get_by_test_id("fortnox-log-item").get_by_role("button", name="Retry").click()
    expect(page.get_by_text("Queued again.")).to_be_visible()
    retried = wait_for("the retried invoice in Fortnox",
                       lambda: sandbox_invoice(sandbox, failing), timeout=SLOW / 1000)
    assert retried["CustomerName"] == NEW_CUSTOMER
    page.goto(f"{base}/integrations/fortnox/log?state=synced")
    eventually(page, "the retried invoice listed as in Fortnox", lambda: page.get_by_test_id(
        "fortnox-log-item").filter(has_text=f"Invoice {failing}").count() == 1)
    page.goto(f"{base}/integrations/fortnox/log?state=needs_attention")
    expect(page.get_by_test_id("fortnox-log-empty")).to_be_visible()

    # -- 9. Disconnect: everything stays in both places, nothing more is sent ---------------
    go_to_integrations(page, base)
    card(page).get_by_role("link", name="Disconnect").click()
    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("Fortnox is disconnected.")).to_be_visible()
    expect(status(page)).to_have_text("Disconnected")
    before = requests_to_fortnox(sandbox)
    in_fortnox_before = len(sandbox.admin("GET", f"/companies/{DB}/invoices"))
    held = send_invoice(page, base, NEW_CUSTOMER, "Eftermiddagsfika", "300")
    expect(page.get_by_test_id("sync-held")).to_be_visible()
    # Two ticks of the worker after the send, and still no request reached Fortnox.
    sent_at = utcnow()
    wait_for("two worker ticks after the send", lambda: _ticked_since(host, sent_at, 2))
    assert requests_to_fortnox(sandbox) == before
    assert len(sandbox.admin("GET", f"/companies/{DB}/invoices")) == in_fortnox_before
    assert sandbox_invoice(sandbox, held) is None
    assert sandbox_invoice(sandbox, number) is not None  # what was synced stays in Fortnox
    page.goto(f"{base}/invoices/")
    expect(page.get_by_role("row", name=re.compile(rf"^#{number} "))
           .get_by_test_id("sync-synced")).to_be_visible()  # and in Aourly, still synced
    go_to_integrations(page, base)
    expect(card(page)).to_contain_text("1 item is held")
    shots.card(page, "disconnected")

    # In Swedish: the host's language switch reaches the plugin's pages.
    page.get_by_role("button", name="SV").click()
    expect(page.get_by_role("heading", name="Integrationer", exact=True)).to_be_visible()
    expect(status(page)).to_have_text("Frånkopplad")
    card(page).get_by_role("link", name="Synklogg").click()
    expect(page.get_by_role("heading", name="Synklogg")).to_be_visible()
    shots.page(page, "swedish")
    # axe-core at every state above, the card's seven included: nothing serious or critical.
    assert len(shots.scanned) == 11
    shots.assert_accessible()


def _ticked_since(host: JourneyHost, moment: datetime, ticks: int) -> bool:
    """The worker's heartbeat (written every tick, each second here) is ``ticks`` s past
    ``moment``: the worker has been running all along, with a chance to send."""
    with host.engine.connect() as conn:
        seen = list(conn.execute(select(WorkerHeartbeat.seen_at)).scalars())
    return bool(seen and (max(seen) - moment).total_seconds() >= ticks)


def test_connect_map_and_disconnect_without_javascript(
    browser: Browser, journey_host: JourneyHost
) -> None:
    """The same connect, mapping and disconnect steps with JavaScript off: every action is a
    plain form and every page a plain page (the owner reloads instead of htmx polling)."""
    base = journey_host.url
    context = browser.new_context(java_script_enabled=False,
                                  viewport={"width": 1000, "height": 800})
    try:
        page = context.new_page()
        log_in(page, base, "owner@acme.test")
        open_integrations(page)  # the tenant menu is a <details>: no script needed
        with journey_host.worker_paused():  # the import still to come, as in the journey
            connect(page)
            # The mapping page at once: it says the import runs, and Save waits.
            card(page).get_by_role("link", name="Account mapping").click()
            expect(page.get_by_role("heading", name="Account mapping")).to_be_visible()
            expect(page.get_by_text("Importing your chart of accounts…")).to_be_visible()
            expect(page.get_by_role("button", name="Save mapping")).to_be_disabled()
        # Without htmx the page offers a plain link to load it again, until the import ends.
        sales_12 = page.get_by_label("Sales 12 %")
        deadline = time.monotonic() + SLOW / 1000
        while sales_12.input_value() != "3002":
            assert time.monotonic() < deadline, "the import's suggestions never arrived"
            page.wait_for_timeout(300)
            page.get_by_role("link", name="Reload").click()
        expect(page.get_by_test_id("field-sales_12-status")).to_contain_text("suggested")
        # An inactive account is refused by the server, with the reason at the field.
        sales_12.fill("3590")
        page.get_by_role("button", name="Save mapping").click()
        expect(page.get_by_test_id("field-sales_12-status")).to_contain_text("is inactive in")
        expect(page.get_by_label("Sales 12 %")).to_have_value("3590")  # kept to correct
        page.get_by_label("Sales 12 %").fill("3002")
        page.get_by_role("button", name="Save mapping").click()
        expect(page.get_by_text("Account mapping saved. The mapping is complete.")).to_be_visible()
        expect(page.get_by_test_id("field-sales_12-status")).not_to_contain_text("suggested")

        go_to_integrations(page, base)
        eventually(page, "the first sync", lambda: card(page).get_by_test_id(
            "fortnox-last-sync").inner_text() != "Not yet")
        expect(card(page).get_by_test_id("fortnox-mapping-summary")).to_have_text(
            "Mapping complete")
        card(page).get_by_role("link", name="Disconnect").click()
        expect(page.get_by_role("heading", name="Disconnect Fortnox?")).to_be_visible()
        page.get_by_role("button", name="Disconnect").click()
        expect(page.get_by_text("Fortnox is disconnected.")).to_be_visible()
        expect(status(page)).to_have_text("Disconnected")
        expect(card(page).get_by_role("button", name="Connect again")).to_be_visible()
    finally:
        context.close()
