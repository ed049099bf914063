"""Issue 19, database cut: PostgreSQL unreachable for 10 s in the middle of a sync. The
workers reach the shared server through a TCP proxy of this test alone (the server itself
serves other runs and is never stopped); the proxy resets every open connection and refuses
new ones, then comes back. Jobs fail and are tried again; no invoice is lost or doubled, and
no row is half-written: every row is synced with its Fortnox number, and every invoice in
Fortnox is the one its row names.

Sizes: ``AOURLY_FAULTS_ITEMS`` (200) invoices, ``AOURLY_FAULTS_DB_DOWN`` (10) seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from .async_host import invoice_ids
from .async_support import Harness, wait_for
from .fault_support import Figures, TcpProxy, scaled, target_of, via

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.faults]


def test_postgresql_cut_for_ten_seconds_mid_sync_loses_and_half_writes_nothing(
    harness: Callable[..., Harness], sandbox: Any, postgres_url: str
) -> None:
    items, down = scaled("ITEMS", 200), scaled("DB_DOWN", 10)
    proxy = TcpProxy(*target_of(postgres_url)).start()
    try:
        # 20 requests per second: the sync lasts long enough to cut it in its middle.
        h = harness(AOURLY_FORTNOX_RATE_LIMIT="20/1", AOURLY_FORTNOX_LEASE_SECONDS=5)
        h.connect()
        ids = invoice_ids(items, customers=max(1, items // 10))
        workers = h.spec_with()
        workers["database_url"] = via(postgres_url, proxy)
        for n in range(4):
            h.worker(f"w{n + 1}", spec=workers)
        started = time.monotonic()
        h.send(*ids)  # the host itself reaches PostgreSQL directly

        def synced() -> int:
            return sum(r["state"] == "synced" for r in h.records().values())

        wait_for("a third synced", lambda: synced() >= items // 3, timeout=120, interval=0.05)
        proxy.cut()
        at_cut = synced()
        in_flight = sum(1 for r in h.records().values() if r["lease_token"])
        time.sleep(down)
        during = synced()
        proxy.restore()
        wait_for("every invoice synced", lambda: h.synced(ids), timeout=300, interval=0.5)
        elapsed = time.monotonic() - started
    finally:
        proxy.stop()

    rows = h.records()
    found = {str(i["ExternalInvoiceReference2"]).removeprefix("acme-"): str(i["DocumentNumber"])
             for i in h.fortnox_invoices()}
    half_written = [key for key, row in rows.items()
                    if row["state"] != "synced" or not row["remote_id"]
                    or not row["payload_hash"] or row["synced_at"] is None
                    or row["lease_token"] is not None or found.get(key) != row["remote_id"]]
    failed_jobs = sum(w.log.read_text(errors="replace").count("OperationalError")
                      for w in h.workers)
    figures = Figures("database cut", faults=1)
    figures.count(h.copies(), ids)
    figures.extra = {"PostgreSQL down (s)": down, "synced at the cut": at_cut,
                     "rows leased at the cut": in_flight, "synced while down": during - at_cut,
                     "OperationalErrors in worker logs": failed_jobs,
                     "half-written rows": len(half_written), "wall (s)": round(elapsed, 1)}
    figures.print()
    assert 0 < at_cut < items and during == at_cut  # the cut did stop the sync
    assert (figures.duplicates, figures.lost) == (0, 0)
    assert half_written == []
