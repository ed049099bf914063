"""Benchmark (issue 19): what reading from Fortnox costs in requests.

- The chart import: a sandbox whose two financial years each hold ``--accounts`` accounts (its
  BAS chart plus the ``extra_accounts`` setting) is connected by the real OAuth flow; then the
  chart is imported again, as Refresh chart does, and the sandbox's ``/_admin/stats`` count
  the requests: the accounts lists of both years (beside the physical minimum, ceil(accounts
  ÷ 500) a year: Fortnox pages hold at most 500), the financial years list, and the whole
  Refresh chart run (company information, years, charts, predefined accounts, series, the
  locked period and the voucher pull).
- The voucher pull when nothing changed: every voucher already pulled, one more pull.

``--json`` merges ``pull.*`` into ``bench/results/latest.json``. Needs Redis
(``AOURLY_TEST_REDIS_URL``: the shared limiter). Run ``python -m bench.pull`` from the
project root.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from bench.push import RESULTS, merge_results

COMPANY = "acme"
PAGE = 500  # Fortnox's largest page (``limit``)


def requests_made(sandbox: Any, key: str) -> int:
    """The /3/ requests the sandbox counted for one client and company since the reset."""
    return int(sandbox.stats().get(key, {}).get("requests", 0))


def main(argv: list[str] | None = None) -> int:
    """Connect, import the chart again, pull vouchers again; print and write the counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1200, help="accounts per year")
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from aourly_fortnox.connection.clients import client_for
    from aourly_fortnox.models import Connection, SyncRun
    from aourly_fortnox.sandbox import bas
    from aourly_fortnox.sandbox.testing import running_sandbox
    from aourly_fortnox.state import state
    from aourly_fortnox.sync import runs
    from aourly_fortnox.sync.importer import import_accounts, import_financial_years
    from aourly_fortnox.sync.pull_vouchers import pull_vouchers
    from tests.plugin.conftest import login
    from tests.plugin.flow import connect, sandbox_host

    extra = args.accounts - len(bas.chart())
    if extra < 0:
        raise SystemExit(f"--accounts: at least {len(bas.chart())} (the sandbox's BAS chart)")
    started = time.monotonic()
    with running_sandbox(code_ttl=600, rate_limit="250/5", extra_accounts=extra,
                         quiet=True) as sandbox:
        app = sandbox_host(sandbox)
        client = app.test_client()
        login(client)
        assert connect(client).status_code == 303
        with app.app_context():
            session = state(app).db.session
            conn = session.query(Connection).filter_by(company_id=COMPANY).one()
            db = int(conn.database_number or 0)
            key = f"{sandbox.client_id}/{db}"
            fortnox = client_for(COMPANY)

            sandbox.admin("DELETE", "/_admin/stats")
            years = import_financial_years(fortnox, COMPANY, db)
            session.commit()
            years_requests = requests_made(sandbox, key)

            per_year = {}
            for year in years:
                sandbox.admin("DELETE", "/_admin/stats")
                count = import_accounts(fortnox, COMPANY, db, year)
                session.commit()
                per_year[year] = (count, requests_made(sandbox, key))
            chart_requests = sum(r for _, r in per_year.values())
            minimum = sum(math.ceil(count / PAGE) for count, _ in per_year.values())

            sandbox.admin("DELETE", "/_admin/stats")
            run = runs.enqueue_import(COMPANY, "import")  # Refresh chart; jobs run inline
            finished = session.get(SyncRun, run.id)
            assert finished is not None and finished.state == "finished", finished
            refresh_requests = requests_made(sandbox, key)

            sandbox.admin("DELETE", "/_admin/stats")
            pulled = pull_vouchers(fortnox, COMPANY, db)
            unchanged = requests_made(sandbox, key)
            assert pulled.new == 0, pulled
    seconds = time.monotonic() - started

    print(f"\nPull: {args.accounts} accounts in each of {len(years)} financial years "
          f"(sandbox extra_accounts={extra}), Fortnox pages of {PAGE}\n")
    rows = [
        *[(f"accounts of year {year} ({count} accounts)", f"{requests}",
           f"{math.ceil(count / PAGE)}") for year, (count, requests) in per_year.items()],
        ("chart: accounts of every year", f"{chart_requests}", f"{minimum}"),
        ("financial years list", f"{years_requests}", "1"),
        ("whole Refresh chart run (an import)", f"{refresh_requests}", "-"),
        (f"voucher pull, nothing changed ({pulled.years} years)", f"{unchanged}",
         f"{pulled.years}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'requests':<{width}}  {'ours':>6}  {'minimum':>8}")
    for label, ours, least in rows:
        print(f"{label:<{width}}  {ours:>6}  {least:>8}")
    print(f"\nbench.pull took {seconds:.0f} s")
    merge_results(args.json, {"pull": {"chart_requests": chart_requests,
                                       "voucher_requests_unchanged": unchanged}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
