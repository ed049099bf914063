"""One host voucher (a payout) to Fortnox, balanced, in the company's series, exactly once.

- Pre-checks from what the job loaded once (no request per voucher): the company's series
  must be an imported manual series (``VOUCHER_SERIES_INVALID``); an imported financial year
  must cover the date, outside the locked period; every row's account (a mapping key, or the
  row's own number) must exist and be active in that year; debit and credit must balance to
  the öre (``VOUCHER_UNBALANCED``: never sent).
- The voucher goes into the year covering its date, whose Id is always sent as
  ``financialyear`` (docs/fortnox.md, "Vouchers"), with our marker at the end of its
  ``Description``.
- Before the POST the row records *post started*. An attempt that finds it without a remote
  id lists that year's vouchers (every series) on the voucher's date and adopts the one
  ending in our marker before creating anything: Fortnox vouchers cannot be deleted, so a
  duplicate would stay in the books.
- Vouchers are immutable in Fortnox: a voucher changed in Aourly after it was booked (its
  host data, hashed) needs the owner (a correcting voucher), never a second POST; an
  unchanged one costs no request, whatever the pre-checks would say today.
"""

from __future__ import annotations

from ..fortnox.parsing import to_int, to_str
from ..host import VoucherData
from ..models import SyncRecord, utcnow
from ..queries import session
from . import leases, payloads
from .leases import Claim
from .pull_vouchers import remote_id_of, store_voucher
from .push_context import NeedsOwner, PushContext, posting, synced
from .references import reference, voucher_marker


def push(ctx: PushContext, claim: Claim, record: SyncRecord) -> None:
    """Bring one voucher row to *synced* (or to the owner, with the reason)."""
    voucher = ctx.adapter.get_voucher(ctx.company_id, record.object_id)
    if voucher is None:
        raise NeedsOwner("HOST_OBJECT_MISSING", kind="voucher", id=record.object_id)
    # The host's data decides "changed", not the body: a new mapping or series later must
    # not make a booked voucher look changed.
    digest = payloads.voucher_hash(voucher)
    if record.remote_id:  # booked: never posted again, whatever the pre-checks say today
        if digest != record.payload_hash:
            raise NeedsOwner("VOUCHER_CHANGED", number=_shown(record.remote_id))
        synced(claim)
        return
    series = ctx.voucher_series
    if not ctx.series_is_manual(series):
        raise NeedsOwner("VOUCHER_SERIES_INVALID", series=series)
    year = ctx.resolver.year(voucher.transaction_date)
    accounts = _accounts(ctx, voucher)
    marker = voucher_marker(reference(ctx.installation, ctx.company_id, "voucher", voucher.id))
    payload = payloads.voucher_payload(voucher, series, marker, accounts)
    if record.post_started_at is not None:
        found = _find_ours(ctx, year.fortnox_id, voucher, marker)
        if found is not None:  # our earlier POST went through: adopt it, never post again
            synced(claim, remote_id=remote_id_of(year.fortnox_id, *found),
                   remote_kind="created", payload_hash=digest)
            return
    ctx.before_write(claim)
    started_before = record.post_started_at
    if not leases.write(claim, keep_lease=True, post_started_at=utcnow()):
        return
    with posting(claim, started_before):
        answer = ctx.client.create_voucher(payload.body["Voucher"], year.fortnox_id)
    number = to_int(answer.get("VoucherNumber"))
    if number is None:  # pragma: no cover - Fortnox always numbers a created voucher
        raise NeedsOwner("FORTNOX_REFUSED")
    if synced(claim, remote_id=remote_id_of(year.fortnox_id, series, number),
              remote_kind="created", payload_hash=digest):
        # Fortnox's answer has the rows: the pull finds it stored and spends no GET on it.
        store_voucher(ctx.company_id, ctx.database_number, year.fortnox_id, answer, record.id)
        session().commit()


def _accounts(ctx: PushContext, voucher: VoucherData) -> list[int]:
    """Each row's account, pre-checked against the year covering the voucher's date."""
    day = voucher.transaction_date
    accounts = []
    for row in voucher.rows:
        if (row.account is None) == (row.account_key is None):
            raise NeedsOwner("VOUCHER_ROW_ACCOUNT", description=voucher.description[:20])
        if row.account_key is not None:
            accounts.append(ctx.resolver.account(row.account_key, day))
        else:
            accounts.append(ctx.resolver.own_account(int(row.account or 0), day))
    return accounts


def _find_ours(ctx: PushContext, year_id: int, voucher: VoucherData,
               marker: str) -> tuple[str, int] | None:
    """(series, number) of the voucher of that year on the voucher's date whose Description
    ends in our marker, if Fortnox has one. Every series is listed (list items carry the
    Description), so a series changed on the mapping page since the POST is still found."""
    day = voucher.transaction_date.isoformat()
    for item in ctx.client.vouchers(year_id, fromdate=day, todate=day):
        number = to_int(item.get("VoucherNumber"))
        if number is not None and (to_str(item.get("Description")) or "").endswith(marker):
            return str(item.get("VoucherSeries")), number
    return None


def _shown(remote_id: str) -> str:
    """``A12`` for the owner, from our stored ``year:series:number``."""
    parts = remote_id.split(":")
    return f"{parts[1]}{parts[2]}" if len(parts) == 3 else remote_id
