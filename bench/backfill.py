"""Benchmark (issue 19): one backfill, that is one transaction that records N invoices.

``fortnox.backfill(company)`` records every sent invoice of a connected company and its
customer (one customer per 5 invoices, as bench.push) in one transaction, through the
outbox's ``record_push``: each item is an insert and a few statements of its own. Every new
sync record changes the company's record summary (the card's counts, kept by triggers).

Why PostgreSQL's time per item grew with N (the baseline column), two causes, both O(N^2) in
one transaction:

- the plan: psycopg prepares a statement run 5 times on a connection, and PostgreSQL then may
  keep one generic plan for it. On a table without statistics (the outbox before its first
  backfill; the rows this transaction inserted, which no ANALYZE sees) the generic plan of
  ``record_push``'s lookup by (company, Fortnox company, type, id) scans the index
  ``ix_fortnox_sync_record_log`` on ``company_id`` alone, so every lookup reads every row
  recorded so far. Measured with psql, record_push's four statements per item in a PL/pgSQL
  loop (cached plans too), one transaction, 10,000 items, migration 0008's trigger: 29.1 s
  with the cached plan (0.7, 2.4, 6.5, 9.5, 10.1 s per 2,000), 3.1 s planning each statement
  (1.2, 1.0, 0.3, 0.3, 0.3 s); 27.8 s with the cached plan and no trigger at all.
  ``outbox.backfill`` now plans each statement after its first 1,000 items (``SET LOCAL
  plan_cache_mode``);
- the summary: migration 0006's PostgreSQL trigger updated the company's summary row once per
  changed record. PostgreSQL writes a new version of a row on every UPDATE and cannot prune
  the versions of a transaction still open, so the k-th update of the row follows the k-1
  before it. Migration 0008 notes each change in ``fortnox_record_summary_delta`` (an
  insert) and folds the notes into the summary once, just before the commit (a deferred
  trigger queued once per transaction; docs/architecture.md). Retry all (one UPDATE per
  row, in one transaction) shows it alone.

SQLite updates a row in place and has no generic plans: its cost per item stays flat.

For each database (a fresh SQLite file, a fresh PostgreSQL database) and each size
(``--sizes``), a fresh database migrated to the newest revision; on PostgreSQL the same
again at revision 0007 (0006's trigger, the baseline), so both columns come from one run.
Printed: seconds for the backfill, seconds per 1,000 items, the plugin's SQL statements
(statements on ``fortnox_*`` tables), and a check that the summary equals the rows after it.
``--json`` merges ``backfill.*`` into ``bench/results/latest.json``. Needs ``redis-server``
on the PATH (a private one is started: the commit nudges the push queue) and
``AOURLY_TEST_POSTGRES_URL``'s server. Run ``python -m bench.backfill`` from the project root.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.push import RESULTS, _drop_database, _fresh_database, merge_results

COMPANY = "acme"
#: The last revision with 0006's trigger updating the summary row per changed record.
BASELINE_REVISION = "0007"
EXTRA: dict[str, Any] = {}


def run_once(url: str, redis_url: str, invoices: int, revision: str) -> dict[str, float]:
    """Backfill ``invoices`` invoices (and their customers) into a fresh database."""
    from sqlalchemy import event, update

    from aourly_fortnox.host import CustomerData, InvoiceData, InvoiceRowData
    from aourly_fortnox.migrate import upgrade_database
    from aourly_fortnox.models import RecordState, SyncRecord
    from aourly_fortnox.queries import counted_records, record_counts
    from aourly_fortnox.state import state
    from aourly_fortnox.sync import outbox
    from tests.plugin.charts import install_chart
    from tests.plugin.host import create_host

    app, ext, db = create_host(url, AOURLY_FORTNOX_QUEUE_IS_ASYNC=True, **EXTRA,
                               AOURLY_FORTNOX_REDIS_URL=redis_url)
    customers = max(1, invoices // 5)
    row = InvoiceRowData("Gig", Decimal("1"), Decimal("1000"), 25)
    adapter: Any = state(app).adapter
    for n in range(invoices):
        adapter.invoices[(COMPANY, str(n + 1))] = InvoiceData(
            str(n + 1), str(10000 + n), f"c{n % customers + 1}", date(2026, 1, 5),
            date(2026, 2, 4), (row,))
    for n in range(customers):
        adapter.customers[(COMPANY, f"c{n + 1}")] = CustomerData(f"c{n + 1}", f"Kund {n + 1} AB")
    statements = 0

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal statements
        if "fortnox_" in statement:
            statements += 1

    # The baseline is the code before issue 19's fix: 0006's trigger (revision 0007) and
    # record_push's lookups on cached plans (no outbox.plan_each_statement).
    planner = outbox.plan_each_statement
    if revision == BASELINE_REVISION:
        outbox.plan_each_statement = lambda: None
    try:
        with app.app_context():
            upgrade_database(app, revision)
            install_chart(COMPANY)  # connected: the items are pending
            db.session.commit()
            event.listen(db.engine, "before_cursor_execute", count)
            started = time.perf_counter()
            items = ext.backfill(COMPANY)
            seconds = time.perf_counter() - started
            event.remove(db.engine, "before_cursor_execute", count)
            db.session.expire_all()
            exact = record_counts(COMPANY) == counted_records(COMPANY)
            pending = record_counts(COMPANY)["pending"]
            db.session.rollback()
            # Then every item failed (one bulk statement), and the owner's Retry all: one
            # transaction that changes the state of every row, one UPDATE per row.
            db.session.execute(update(SyncRecord).values(state=RecordState.FAILED))
            db.session.commit()
            started = time.perf_counter()
            retried = outbox.retry_all(COMPANY)
            retry_seconds = time.perf_counter() - started
            db.session.expire_all()
            exact = exact and record_counts(COMPANY) == counted_records(COMPANY)
            db.session.rollback()
    finally:
        outbox.plan_each_statement = planner
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert items == invoices + customers == pending == retried, (items, pending, retried)
    return {"seconds": seconds, "items": items, "statements": statements, "exact": exact,
            "retry_seconds": retry_seconds}


def main(argv: list[str] | None = None) -> int:
    """Time the backfills, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get
    parser.add_argument("--sizes", default=env("AOURLY_BENCH_BACKFILL_SIZES", "1000,10000"),
                        help="invoices per backfill, comma-separated")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip PostgreSQL at revision 0007 (0006's per-row trigger)")
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    from tests.engine.async_support import PrivateRedis
    from tests.services import POSTGRES_URL

    total = time.monotonic()
    rows: list[tuple[str, int, dict[str, float], dict[str, float] | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = PrivateRedis(Path(tmp))
        redis_server.start()
        try:
            for kind in ("sqlite", "postgres"):
                for size in sizes:
                    runs: dict[str, dict[str, float]] = {}
                    revisions = ["heads"]
                    if kind == "postgres" and not args.no_baseline:
                        revisions.append(BASELINE_REVISION)
                    for revision in revisions:
                        if kind == "sqlite":
                            path = Path(tmp) / f"backfill_{size}_{revision}.db"
                            runs[revision] = run_once(f"sqlite:///{path}", redis_server.url,
                                                      size, revision)
                        else:
                            url, handle = _fresh_database(POSTGRES_URL)
                            try:
                                runs[revision] = run_once(url, redis_server.url, size,
                                                          revision)
                            finally:
                                _drop_database(handle)
                        print(f"  {kind} {size} invoices at {revision}: "
                              f"{runs[revision]['seconds']:.2f} s", flush=True)
                    rows.append((kind, size, runs["heads"], runs.get(BASELINE_REVISION)))
        finally:
            redis_server.stop()

    print("\nBackfill: one transaction recording N invoices and N/5 customers of a connected "
          "company;\nRetry all: one transaction putting all of them (failed) back to pending."
          "\nBaseline: PostgreSQL at revision 0007 (0006's trigger, the summary row updated "
          "per changed record; record_push's lookups planned generically)\n")
    print(f"{'database':<10}{'invoices':>9}{'items':>7}{'SQL':>8}{'seconds':>9}"
          f"{'s/1,000':>9}{'baseline s':>12}{'ratio':>7}{'retry all s':>13}"
          f"{'baseline s':>12}{'ratio':>7}{'exact':>7}")
    figures: dict[str, float] = {}
    for kind, size, run, base in rows:
        per = run["seconds"] / run["items"] * 1000
        line = (f"{kind:<10}{size:>9}{run['items']:>7.0f}{run['statements']:>8.0f}"
                f"{run['seconds']:>9.2f}{per:>9.3f}")
        if base is not None:
            line += f"{base['seconds']:>12.2f}{run['seconds'] / base['seconds']:>7.2f}"
        else:
            line += f"{'-':>12}{'-':>7}"
        line += f"{run['retry_seconds']:>13.2f}"
        if base is not None:
            line += (f"{base['retry_seconds']:>12.2f}"
                     f"{run['retry_seconds'] / base['retry_seconds']:>7.2f}")
            figures[f"{kind}_baseline_seconds_{size}"] = round(base["seconds"], 2)
            figures[f"{kind}_baseline_retry_all_seconds_{size}"] = round(
                base["retry_seconds"], 2)
            assert base["exact"]
        else:
            line += f"{'-':>12}{'-':>7}"
        print(line + f"{'yes' if run['exact'] else 'NO':>7}")
        figures[f"{kind}_seconds_{size}"] = round(run["seconds"], 2)
        figures[f"{kind}_retry_all_seconds_{size}"] = round(run["retry_seconds"], 2)
        figures[f"{kind}_statements_{size}"] = run["statements"]
        assert run["exact"], "the summary differs from the rows"
    print(f"\nbench.backfill took {time.monotonic() - total:.0f} s")
    merge_results(args.json, {"backfill": figures})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
