"""Vouchers both ways against the real sandbox: a host voucher becomes one balanced voucher in
the right year and series, exactly once; an unbalanced one never leaves; vouchers made in
Fortnox are pulled on Sync now, cheaply, and ours are linked, never shown twice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.connection.clients import client_for
from aourly_fortnox.host import VoucherData, VoucherRowData
from aourly_fortnox.models import (
    AccountMapping,
    Connection,
    PulledVoucher,
    RecordState,
    SyncRecord,
    utcnow,
)
from aourly_fortnox.state import state
from aourly_fortnox.sync import dispatch
from aourly_fortnox.sync.pull_vouchers import pull_vouchers
from aourly_fortnox.sync.references import installation_id, reference, voucher_marker

from ..plugin.test_access import csrf
from .conftest import DB, fortnox, next_try_now

KEY = "demo-client/1001"


def payout(ident: str = "p1", amount: str = "4000.00", day: date | None = None,
           credit: str | None = None, text: str = "Payout to Pia Persson: Fotografering",
           ) -> VoucherData:
    """A payout as the example host hands it over: own account 4600 against the bank key."""
    return VoucherData(
        id=ident, description=text, transaction_date=day or date.today(),
        rows=(VoucherRowData(debit=Decimal(amount), account=4600),
              VoucherRowData(credit=Decimal(credit or amount), account_key="bank")),
    )


def send_voucher(app: Flask, voucher: VoucherData) -> None:
    """The host records it; the outbox row commits with its change and the push runs."""
    state(app).adapter.vouchers[("acme", voucher.id)] = voucher  # type: ignore[attr-defined]
    with app.app_context():
        state(app).ext.sync_voucher("acme", voucher.id)
        state(app).db.session.commit()


def record(app: Flask, ident: str) -> SyncRecord:
    with app.app_context():
        session = state(app).db.session
        session.expire_all()
        found = session.query(SyncRecord).filter_by(object_type="voucher", object_id=ident).one()
        session.expunge(found)
        return found


def marker(app: Flask, ident: str) -> str:
    with app.app_context():
        return voucher_marker(reference(installation_id(), "acme", "voucher", ident))


def ours(sandbox: Any, app: Flask, ident: str) -> list[dict[str, Any]]:
    end = marker(app, ident)
    return [v for v in fortnox(sandbox, "vouchers") if v["Description"].endswith(end)]


def requests_made(sandbox: Any) -> int:
    return int(sandbox.stats().get(KEY, {}).get("requests", 0))


def pulled(app: Flask) -> list[PulledVoucher]:
    with app.app_context():
        found = state(app).ext.vouchers("acme")
        for voucher in found:
            state(app).db.session.expunge(voucher)
        return found


def test_a_payout_becomes_one_balanced_voucher_in_the_year_of_its_date(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    last_year = date(date.today().year - 1, 11, 5)  # year Id 1: needs financialyear=1
    send_voucher(app, payout("p1", "3250.75", day=last_year))
    (voucher,) = ours(sandbox, app, "p1")
    assert (voucher["VoucherSeries"], voucher["Year"]) == ("A", 1)
    assert voucher["TransactionDate"] == last_year.isoformat()
    assert voucher["Description"] == f"Payout to Pia Persson: Fotografering {marker(app, 'p1')}"
    rows = [(r["Account"], Decimal(str(r["Debit"])), Decimal(str(r["Credit"])))
            for r in voucher["VoucherRows"]]
    assert rows == [(4600, Decimal("3250.75"), Decimal(0)), (1930, Decimal(0), Decimal("3250.75"))]
    row = record(app, "p1")
    assert row.state == RecordState.SYNCED
    assert row.remote_id == f"1:A:{voucher['VoucherNumber']}"
    # Shown on the Vouchers page as ours, once, with its rows, without a GET of its own.
    (shown,) = [v for v in pulled(app) if v.sync_record_id == row.id]
    assert (shown.series, shown.number, shown.total) == ("A", voucher["VoucherNumber"],
                                                          Decimal("3250.75"))
    # Sending it again sends nothing, not even a read.
    before = requests_made(sandbox)
    send_voucher(app, payout("p1", "3250.75", day=last_year))
    assert requests_made(sandbox) == before and len(ours(sandbox, app, "p1")) == 1


def test_a_booked_voucher_is_never_sent_again_and_a_change_needs_the_owner(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    send_voucher(app, payout("p8", "500.00"))
    booked = record(app, "p8")
    assert booked.state == RecordState.SYNCED
    # Another series and another bank account later change nothing for a booked voucher.
    with app.app_context():
        session = state(app).db.session
        session.query(Connection).filter_by(company_id="acme").one().voucher_series = "I"
        session.query(AccountMapping).filter_by(company_id="acme", key="bank").one().account \
            = 1920
        session.commit()
    before, every = requests_made(sandbox), fortnox(sandbox, "vouchers")
    send_voucher(app, payout("p8", "500.00"))  # a backfill hands it over again
    assert record(app, "p8").state == RecordState.SYNCED
    assert requests_made(sandbox) == before
    send_voucher(app, payout("p8", "550.00"))  # the payout was edited in Aourly
    changed = record(app, "p8")
    assert (changed.state, changed.error_code) == (RecordState.NEEDS_ATTENTION,
                                                   "VOUCHER_CHANGED")
    assert changed.remote_id == booked.remote_id
    assert requests_made(sandbox) == before and fortnox(sandbox, "vouchers") == every
    number = booked.remote_id.split(":", 1)[1].replace(":", "")  # type: ignore[union-attr]
    log = client.get("/integrations/fortnox/log").get_data(as_text=True)
    assert f"after it was booked in Fortnox as {number}" in log


def test_an_unbalanced_voucher_never_leaves_aourly(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    before, every = requests_made(sandbox), fortnox(sandbox, "vouchers")
    send_voucher(app, payout("p2", "100.00", credit="99.99"))
    row = record(app, "p2")
    assert (row.state, row.error_code) == (RecordState.NEEDS_ATTENTION, "VOUCHER_UNBALANCED")
    assert requests_made(sandbox) == before  # not one request
    assert fortnox(sandbox, "vouchers") == every
    log = client.get("/integrations/fortnox/log").get_data(as_text=True)
    assert "does not balance: debit 100.00 kr, credit 99.99 kr" in log


def test_a_series_that_is_not_manual_is_refused_before_sending_and_the_owner_picks_another(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    with app.app_context():
        session = state(app).db.session
        session.query(Connection).filter_by(company_id="acme").one().voucher_series = "B"
        session.commit()
    before = requests_made(sandbox)
    send_voucher(app, payout("p3"))
    row = record(app, "p3")
    assert (row.state, row.error_code) == (RecordState.NEEDS_ATTENTION, "VOUCHER_SERIES_INVALID")
    assert requests_made(sandbox) == before
    page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
    assert "Voucher series B is not a manual series in Fortnox" in page
    log = client.get("/integrations/fortnox/log?state=needs_attention").get_data(as_text=True)
    assert "Vouchers go to series B, which is not a manual series in Fortnox" in log
    # Saving a series that does not exist is refused and changes nothing.
    refused = client.post("/integrations/fortnox/mapping",
                          data={"voucher_series": "Q", "csrf_token": csrf(client)})
    assert refused.status_code == 422
    assert "Voucher series Q does not exist in Fortnox." in refused.get_data(as_text=True)
    with app.app_context():
        assert state(app).db.session.query(Connection).one().voucher_series == "B"
    from ..plugin.test_mapping import FULL
    saved = client.post("/integrations/fortnox/mapping",
                        data={**FULL, "voucher_series": "I", "csrf_token": csrf(client)})
    assert saved.status_code == 303
    response = client.post(f"/integrations/fortnox/log/{row.id}/retry",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    (voucher,) = ours(sandbox, app, "p3")
    assert voucher["VoucherSeries"] == "I"


def test_a_voucher_dated_where_no_year_or_a_missing_account_is_listed_with_its_reason(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    before = requests_made(sandbox)
    send_voucher(app, payout("p4", day=date(date.today().year + 3, 1, 2)))
    assert record(app, "p4").error_code == "FINANCIAL_YEAR_MISSING"
    state(app).adapter.vouchers[("acme", "p5")] = VoucherData(  # type: ignore[attr-defined]
        id="p5", description="Okänt konto", transaction_date=date.today(),
        rows=(VoucherRowData(debit=Decimal(5), account=9999),
              VoucherRowData(credit=Decimal(5), account_key="bank")))
    with app.app_context():
        state(app).ext.sync_voucher("acme", "p5")
        state(app).db.session.commit()
    assert record(app, "p5").error_code == "VOUCHER_ACCOUNT_MISSING"
    assert requests_made(sandbox) == before


def test_an_answer_lost_after_the_post_is_adopted_by_its_marker_not_posted_again(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    send_voucher(app, payout("p6"))
    (voucher,) = ours(sandbox, app, "p6")
    remote = record(app, "p6").remote_id
    # As if the worker died after Fortnox booked it and before we stored the answer.
    with app.app_context():
        session = state(app).db.session
        row = session.query(SyncRecord).filter_by(object_type="voucher", object_id="p6").one()
        row.state, row.remote_id, row.payload_hash = RecordState.PENDING, None, None
        row.post_started_at = utcnow()
        session.query(PulledVoucher).filter_by(sync_record_id=row.id).delete()
        session.commit()
        dispatch.nudge("acme")
    adopted = record(app, "p6")
    assert (adopted.state, adopted.remote_id) == (RecordState.SYNCED, remote)
    assert len(ours(sandbox, app, "p6")) == 1  # no second voucher in the books
    # The host records it again, unchanged: adopted, it is remembered as sent, not changed.
    send_voucher(app, payout("p6"))
    again = record(app, "p6")
    assert (again.state, again.error_code) == (RecordState.SYNCED, None)
    # The next pull meets it as new to the table, and links it by the marker: ours, not new.
    seen: list[tuple[int, int]] = []
    with app.app_context():
        found = pull_vouchers(client_for("acme"), "acme", DB,
                              progress=lambda counts: seen.append((counts.listed, counts.done)))
    assert (found.new, found.ours) == (0, 1)
    assert seen[-1] == (1, 1)  # progress: one voucher above the marks, one settled
    mine = [v for v in pulled(app) if v.number == voucher["VoucherNumber"] and v.series == "A"
            and v.financial_year == voucher["Year"]]
    assert [v.sync_record_id for v in mine] == [adopted.id]


def test_a_post_fortnox_booked_but_answered_with_an_error_is_adopted_not_posted_again(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """A real lost answer: Fortnox books the voucher and the answer is a 5xx. The row notes
    the POST before sending it, so the next try searches instead of booking it twice; an
    accountant's voucher on the same day is never taken for ours."""


    sandbox.admin("POST", f"/_admin/companies/{DB}/vouchers", {"Voucher": {
        "VoucherSeries": "A", "Description": "Kontorsmaterial, kontant",
        "TransactionDate": date.today().isoformat(),
        "VoucherRows": [{"Account": 6110, "Debit": 450}, {"Account": 1930, "Credit": 450}]}})
    sandbox.faults(error_rate=1.0, applied_rate=1.0)
    try:
        send_voucher(app, payout("p9"))
    finally:
        sandbox.faults()
    failed = record(app, "p9")
    assert (failed.state, failed.remote_id) == (RecordState.FAILED, None)
    assert failed.post_started_at is not None
    (booked,) = ours(sandbox, app, "p9")  # Fortnox has it, though its answer was lost
    next_try_now(app, "p9")  # a few seconds later, its next try
    adopted = record(app, "p9")
    assert adopted.state == RecordState.SYNCED
    assert adopted.remote_id == f"{booked['Year']}:A:{booked['VoucherNumber']}"
    assert len(ours(sandbox, app, "p9")) == 1


def test_a_payout_gone_from_the_host_or_with_a_row_without_account_is_listed_with_its_reason(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    before = requests_made(sandbox)
    send_voucher(app, VoucherData(
        id="p10", description="Arvode utan konto", transaction_date=date.today(),
        rows=(VoucherRowData(debit=Decimal(5)), VoucherRowData(credit=Decimal(5),
                                                                account_key="bank"))))
    assert record(app, "p10").error_code == "VOUCHER_ROW_ACCOUNT"
    state(app).adapter.vouchers[("acme", "p11")] = payout("p11")  # type: ignore[attr-defined]
    with app.app_context():
        state(app).ext.sync_voucher("acme", "p11")
        del state(app).adapter.vouchers[("acme", "p11")]  # type: ignore[attr-defined]
        state(app).db.session.commit()
    assert record(app, "p11").error_code == "HOST_OBJECT_MISSING"
    assert requests_made(sandbox) == before  # neither left Aourly
    log = client.get("/integrations/fortnox/log?state=needs_attention").get_data(as_text=True)
    assert "A row of the voucher “Arvode utan konto” names no account" in log
    assert "The voucher p11 no longer exists in" in log


def test_a_pull_counts_what_is_new_from_fortnox_apart_from_ours(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """Two vouchers made in Fortnox and one of ours since the last pull: two new; ours was
    kept when it was sent, so it is neither new nor met again; the progress counts all three."""
    for text in ("Hyra december", "El november"):
        sandbox.admin("POST", f"/_admin/companies/{DB}/vouchers", {"Voucher": {
            "VoucherSeries": "A", "Description": text,
            "TransactionDate": date.today().isoformat(),
            "VoucherRows": [{"Account": 5010, "Debit": 100}, {"Account": 1930, "Credit": 100}]}})
    send_voucher(app, payout("p12", "300.00"))
    seen: list[tuple[int, int]] = []
    with app.app_context():
        found = pull_vouchers(client_for("acme"), "acme", DB,
                              progress=lambda counts: seen.append((counts.listed, counts.done)))
    assert (found.new, found.ours) == (2, 0)
    assert seen[-1] == (3, 3)
    texts = [v.description for v in pulled(app)]
    assert texts.count("Hyra december") == texts.count("El november") == 1


def test_after_a_switch_of_fortnox_company_every_voucher_of_the_new_one_is_kept(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """The new Fortnox company numbers its years and vouchers as the old one did (year 1,
    A1, ...): none of its vouchers is taken for one already kept from the old company."""
    from ..plugin.flow import companies, connect

    second = companies(sandbox)[1]["DatabaseNumber"]
    every = {(v["Year"], v["VoucherSeries"], v["VoucherNumber"])
             for v in sandbox.admin("GET", f"/_admin/companies/{second}/vouchers")}
    old = {(v.financial_year, v.series, v.number) for v in pulled(app)}
    assert every & old  # the same numbers in both companies: the case that matters
    connect(client, database_number=second)
    assert client.post("/integrations/fortnox/switch-company", data={
        "csrf_token": csrf(client), "decision": "switch"}).status_code == 303
    kept = {(v.financial_year, v.series, v.number) for v in pulled(app)}  # the current one's
    assert kept == every


def test_a_voucher_made_in_fortnox_appears_after_sync_now_and_nothing_new_costs_one_list_a_year(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    seeded = len(pulled(app))
    assert seeded == len(fortnox(sandbox, "vouchers"))  # the connect's import pulled them all
    made = sandbox.admin("POST", f"/_admin/companies/{DB}/vouchers", {"Voucher": {
        "VoucherSeries": "B", "TransactionDate": date.today().isoformat(),
        "Description": "Kundfaktura 77, gjord i Fortnox",
        "VoucherRows": [{"Account": 1510, "Debit": 1250.5,
                         "TransactionInformation": "Kund 77"},
                        {"Account": 3001, "Credit": 1000.4},
                        {"Account": 2611, "Credit": 250.1}]}})["Voucher"]
    send_voucher(app, payout("p7", "800.00"))  # ours: must not show up twice
    assert client.post("/integrations/fortnox/sync",
                       data={"csrf_token": csrf(client)}).status_code == 303
    every = pulled(app)
    assert len(every) == seeded + 2
    (theirs,) = [v for v in every if (v.series, v.number) == ("B", made["VoucherNumber"])]
    assert theirs.total == Decimal("1250.50") and theirs.sync_record_id is None
    assert theirs.transaction_date == date.today()
    assert [r["account"] for r in theirs.rows or []] == [1510, 3001, 2611]
    # Each row named as in Fortnox's chart (the row's Description is the account's name).
    names = {a["Number"]: a["Description"] for a in fortnox(sandbox, "accounts")}
    assert [r["name"] for r in theirs.rows or []] == [names[1510], names[3001], names[2611]]
    # Amounts exact (strings: JSON has no decimals), the row text kept, nothing removed.
    assert [(r["debit"], r["credit"], r["text"], r["removed"]) for r in theirs.rows or []] == [
        ("1250.5", "0", "Kund 77", False), ("0", "1000.4", "", False),
        ("0", "250.1", "", False)]
    assert len([v for v in every if v.sync_record_id == record(app, "p7").id]) == 1
    card = client.get("/integrations/").get_data(as_text=True)
    assert 'href="/integrations/fortnox/vouchers"' in card  # the card links to the page
    page = client.get("/integrations/fortnox/vouchers").get_data(as_text=True)
    assert "Kundfaktura 77, gjord i Fortnox" in page and "1,250.50" in page
    assert f"<td>{date.today().isoformat()}</td>" in page
    assert f"1510 {names[1510]}" in page and "<td>Kund 77</td>" in page
    assert "1,000.40" in page and "250.10" in page
    assert page.count("Payout to Pia Persson: Fotografering") == 1  # ours, once, no marker
    assert "[AOU:" not in page and "Sent from Aourly" in page
    # Nothing new: one list request per imported year, and not one GET.
    before = requests_made(sandbox)
    with app.app_context():
        again = pull_vouchers(client_for("acme"), "acme", DB)
    assert (again.years, again.new, again.ours) == (2, 0, 0)
    assert requests_made(sandbox) - before == 2
    assert len(pulled(app)) == seeded + 2


def test_a_row_fortnox_marks_removed_is_kept_as_removed_and_shown_muted(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """Fortnox keeps a corrected voucher's old rows, marked ``Removed`` (the sandbox never
    corrects one): such a row is kept as removed and shown muted, never as a live amount."""
    from aourly_fortnox.sync.pull_vouchers import store_voucher

    year = pulled(app)[0].financial_year
    with app.app_context():
        store_voucher("acme", DB, year, {
            "VoucherSeries": "A", "VoucherNumber": 9001, "Description": "Rättad hyra",
            "TransactionDate": date.today().isoformat(),
            "VoucherRows": [
                {"Account": 5010, "Description": "Lokalhyra", "Debit": 900, "Credit": 0,
                 "Removed": True},
                {"Account": 5010, "Description": "Lokalhyra", "Debit": 1000, "Credit": 0,
                 "Removed": False},
                {"Account": 1930, "Description": "Företagskonto", "Debit": 0, "Credit": 1000,
                 "Removed": False}]})
        state(app).db.session.commit()
    (kept,) = [v for v in pulled(app) if v.number == 9001]
    assert [r["removed"] for r in kept.rows or []] == [True, False, False]
    assert kept.total == Decimal("1000")  # the live rows' debit, not the removed row's too
    page = client.get("/integrations/fortnox/vouchers").get_data(as_text=True)
    assert '<tr class="fx-muted"><td>5010 Lokalhyra</td>' in page
    assert page.count('<tr class="fx-muted">') == 1


def test_a_voucher_the_pull_kept_while_ours_was_being_sent_is_linked_not_kept_twice(
    app: Flask, client: FlaskClient, sandbox: Any
) -> None:
    """A sync's pull can keep our new voucher between our POST and our own keeping of
    Fortnox's answer: the answer then only links the kept voucher to our record."""
    from aourly_fortnox.sync.pull_vouchers import store_voucher

    send_voucher(app, payout("p13", "700.00"))
    row = record(app, "p13")
    (booked,) = ours(sandbox, app, "p13")
    with app.app_context():
        session = state(app).db.session
        session.query(PulledVoucher).filter_by(sync_record_id=row.id).delete()
        session.commit()
        answer = client_for("acme").get_voucher("A", booked["VoucherNumber"], booked["Year"])
        store_voucher("acme", DB, booked["Year"], answer)  # the pull, first: not known as ours
        session.commit()
        store_voucher("acme", DB, booked["Year"], answer, row.id)  # then our own answer
        session.commit()
    kept = [v for v in pulled(app)
            if (v.financial_year, v.series, v.number) == (booked["Year"], "A",
                                                          booked["VoucherNumber"])]
    assert [v.sync_record_id for v in kept] == [row.id]
