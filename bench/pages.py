"""Benchmark (issue 19): the owner's pages as one company's sync records grow.

The Integrations page, the status partial (polled every 2 s by every open owner tab while
work runs or waits), the sync log's first page and the preview, at 10, 1,000, 10,000 and
100,000 sync records of one company (``--sizes``). The records are inserted in bulk with
SQLAlchemy core, one fifth in each state (pending, failed, needs attention, synced, held),
customers and invoices; the per-company record summary behind the card is kept by the
database's triggers (migration 0006), so it stays right without the plugin's help.

The host is the test host (tests/plugin/host.py) connected to the sandbox by the real OAuth
flow, on a SQLite file by default or on PostgreSQL with ``--postgres`` (a fresh database,
dropped at the end). Two figures per page and size:

- SQL statements: the plugin's own (statements on ``fortnox_*`` tables; the host's are not
  counted) for one request, through Flask's test client in this process;
- p50/p95 latency under gunicorn (``--workers`` sync workers, the app frozen out of the
  garbage collector once built: see ``wsgi``) with ``--clients`` concurrent clients: a thread
  pool of ``requests`` sessions logged in as the owner, ``--requests`` requests per page and
  size after a warm-up round.

The baseline is the p95 at the smallest size: every p95 is printed beside it as a ratio.
``--json`` merges ``pages.*`` into ``bench/results/latest.json``. Run ``python -m bench.pages``
from the project root (``AOURLY_TEST_REDIS_URL``: the connect's import uses the shared limiter).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.push import RESULTS, merge_results

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "integrations": "/integrations/",
    "status": "/integrations/fortnox/status",
    "log": "/integrations/fortnox/log",
    "preview": "/integrations/fortnox/preview",
}
STATES = ("pending", "failed", "needs_attention", "synced", "held")
COMPANY = "acme"
PROBLEM = {"error_code": "ACCOUNT_UNMAPPED",
           "error_reason": "Sales 12 % is not mapped: choose an account on the mapping page.",
           "fortnox_code": 2000423, "fortnox_message": "Kontot hittades inte."}
#: gunicorn's workers build the app from these (``bench.pages:wsgi()``).
CONFIG_ENV = "AOURLY_BENCH_PAGES_CONFIG"


def wsgi() -> Any:
    """The gunicorn app: the test host on the bench's database, with the bench's config.

    Its objects are frozen out of the garbage collector once built (``gc.freeze()``, as a
    tuned pre-fork deployment does): without it, each worker's first full collection walked
    the whole app (Flask, SQLAlchemy, the catalogues) once, early in the run, and held the
    requests queued on it for about 100 ms. That landed on the log's timing at 1,000 records in
    every run (p95 135 to 174 ms against a p50 of 63; 73 and 80 ms with the freeze, whatever
    the size), a cost of the worker's age, not of the records."""
    import gc

    from tests.plugin.host import create_host

    config = json.loads(os.environ[CONFIG_ENV])
    app, _, _ = create_host(**config)
    gc.collect()
    gc.freeze()
    return app


# -- data -----------------------------------------------------------------------------------


def add_records(app: Any, db_number: int, start: int, count: int) -> None:
    """``count`` sync records of one company in bulk (SQLAlchemy core, 5,000 a statement)."""
    from sqlalchemy import insert

    from aourly_fortnox.models import SyncRecord
    from aourly_fortnox.state import state

    with app.app_context():
        session = state(app).db.session
        for first in range(start, start + count, 5000):
            rows = []
            for n in range(first, min(first + 5000, start + count)):
                kind = "customer" if n % 3 == 0 else "invoice"
                row_state = STATES[n % len(STATES)]
                row = {"company_id": COMPANY, "database_number": db_number,
                       "object_type": kind, "object_id": f"b{n}",
                       "label": f"{kind.title()} {n}", "state": row_state, "attempts": 0}
                if row_state in ("failed", "needs_attention"):  # what the log shows for them
                    row.update(PROBLEM, attempts=3)
                rows.append(row)
            session.execute(insert(SyncRecord), rows)
            # A commit per chunk: on PostgreSQL the summary trigger makes one transaction of
            # N inserts cost O(N^2) (every row updates the same summary row; see the README).
            session.commit()
        session.remove()


@contextmanager
def plugin_statements(app: Any) -> Iterator[list[str]]:
    """Every SQL statement on the plugin's tables (``fortnox_*``), as tests/plugin/
    test_card_cost.py counts them; the host's are not counted."""
    from sqlalchemy import event

    from aourly_fortnox.state import state

    seen: list[str] = []
    with app.app_context():
        engine = state(app).db.engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "fortnox_" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def count_statements(app: Any, client: Any) -> dict[str, tuple[int, int, int]]:
    """Per page: (plugin statements, of which reading the chart, response bytes)."""
    found = {}
    for name, path in PAGES.items():
        client.get(path)  # warm: the first request of a process fills caches
        with plugin_statements(app) as seen:
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
        chart = [s for s in seen if re.search(r"FROM fortnox_account\s", s)]
        found[name] = (len(seen), len(chart), len(response.get_data()))
    return found


# -- gunicorn -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(config: dict[str, Any], workers: int) -> Iterator[str]:
    """gunicorn serving the host on a free port; stopped at the end."""
    import requests

    port = _free_port()
    env = {**os.environ, CONFIG_ENV: json.dumps(config)}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--timeout", "300", "--log-level", "warning",
         "bench.pages:wsgi()"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/login", timeout=30)
                break
            except requests.RequestException:  # not listening yet, or a worker still booting
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def owner_sessions(url: str, count: int) -> list[Any]:
    """``count`` requests sessions, each logged in as acme's owner."""
    import requests

    sessions = []
    for _ in range(count):
        s = requests.Session()
        assert s.get(f"{url}/test-login/owner/{COMPANY}", timeout=30).status_code == 200
        sessions.append(s)
    return sessions


def latencies(url: str, path: str, sessions: list[Any], requests_count: int) -> list[float]:
    """Seconds per request, ``len(sessions)`` at a time, after one warm-up round."""

    def one(n: int) -> float:
        s = sessions[n % len(sessions)]
        started = time.perf_counter()
        response = s.get(url + path, timeout=600)
        took = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
        return took

    with ThreadPoolExecutor(len(sessions)) as pool:
        list(pool.map(one, range(len(sessions))))  # warm-up
        return list(pool.map(one, range(requests_count)))


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


# -- the run --------------------------------------------------------------------------------


@contextmanager
def database(postgres: bool, workdir: Path) -> Iterator[tuple[str, str]]:
    """(SQLAlchemy URL, what to print) of a fresh database."""
    if not postgres:
        yield f"sqlite:///{workdir / 'pages.db'}", "SQLite file"
        return
    from bench.push import _drop_database, _fresh_database
    from tests.services import POSTGRES_URL

    url, handle = _fresh_database(POSTGRES_URL)
    try:
        yield url, "PostgreSQL"
    finally:
        _drop_database(handle)


def main(argv: list[str] | None = None) -> int:
    """Grow the records, count statements, time the pages under gunicorn, print, write."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get
    parser.add_argument("--sizes", default=env("AOURLY_BENCH_PAGES_SIZES",
                                               "10,1000,10000,100000"),
                        help="record counts, ascending, comma-separated")
    parser.add_argument("--requests", type=int,
                        default=int(env("AOURLY_BENCH_PAGES_REQUESTS", 200)),
                        help="timed requests per page and size")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--postgres", action="store_true",
                        help="PostgreSQL (AOURLY_TEST_POSTGRES_URL) instead of a SQLite file")
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    from cryptography.fernet import Fernet

    from aourly_fortnox.models import Connection
    from aourly_fortnox.sandbox.testing import running_sandbox
    from aourly_fortnox.state import state
    from tests.plugin.conftest import login
    from tests.plugin.flow import REDIS_URL, connect, sandbox_host

    total = time.monotonic()
    rows: dict[tuple[str, int], dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, database(args.postgres, Path(tmp)) as (url, kind), \
            running_sandbox(code_ttl=600, rate_limit="250/5", quiet=True) as sandbox:
        config = {
            "database_url": url, "AOURLY_FORTNOX_TOKEN_KEYS": Fernet.generate_key().decode(),
            "AOURLY_FORTNOX_AUTH_URL": f"{sandbox.url}/oauth-v1",
            "AOURLY_FORTNOX_API_URL": sandbox.url, "AOURLY_FORTNOX_CLIENT_ID": sandbox.client_id,
            "AOURLY_FORTNOX_CLIENT_SECRET": sandbox.client_secret,
            "AOURLY_FORTNOX_REDIS_URL": REDIS_URL, "AOURLY_FORTNOX_RATE_LIMIT": "240/5",
        }
        extra = {k: v for k, v in config.items() if k not in (
            "AOURLY_FORTNOX_AUTH_URL", "AOURLY_FORTNOX_API_URL", "AOURLY_FORTNOX_CLIENT_ID",
            "AOURLY_FORTNOX_CLIENT_SECRET", "AOURLY_FORTNOX_REDIS_URL",
            "AOURLY_FORTNOX_RATE_LIMIT")}
        app = sandbox_host(sandbox, **extra)
        client = app.test_client()
        login(client)
        answer = connect(client)
        assert answer.status_code == 303, answer.status_code
        with app.app_context():
            conn = state(app).db.session.query(Connection).filter_by(company_id=COMPANY).one()
            db_number = int(conn.database_number or 0)
        with gunicorn(config, args.workers) as base:
            sessions = owner_sessions(base, args.clients)
            have = 0
            for size in sizes:
                started = time.monotonic()
                add_records(app, db_number, have, size - have)
                have = size
                counted = count_statements(app, client)
                for name, path in PAGES.items():
                    took = latencies(base, path, sessions, args.requests)
                    queries, chart, size_bytes = counted[name]
                    rows[(name, size)] = {
                        "queries": queries, "chart": chart, "bytes": size_bytes,
                        "p50": statistics.median(took) * 1000,
                        "p95": percentile(took, 95) * 1000}
                print(f"  {size} records: {time.monotonic() - started:.0f} s", flush=True)
            for s in sessions:
                s.close()
    total_seconds = time.monotonic() - total

    smallest, largest = sizes[0], sizes[-1]
    print(f"\nPages: one company's sync records, {kind}, gunicorn {args.workers} workers, "
          f"{args.clients} concurrent clients, {args.requests} requests per page and size; "
          f"baseline: the p95 at {smallest} records\n")
    head = (f"{'page':<13}{'records':>9}{'SQL':>6}{'chart':>7}{'KiB':>9}{'p50 ms':>9}"
            f"{'p95 ms':>9}{'baseline p95':>14}{'p95 ratio':>11}")
    print(head)
    for name in PAGES:
        base_p95 = rows[(name, smallest)]["p95"]
        for size in sizes:
            r = rows[(name, size)]
            print(f"{name:<13}{size:>9}{r['queries']:>6.0f}{r['chart']:>7.0f}"
                  f"{r['bytes'] / 1024:>9.1f}{r['p50']:>9.1f}{r['p95']:>9.1f}"
                  f"{base_p95:>14.1f}{r['p95'] / base_p95:>11.2f}")
    print(f"\nbench.pages took {total_seconds:.0f} s")
    status_ratio = rows[("status", largest)]["p95"] / rows[("status", smallest)]["p95"]
    figures: dict[str, Any] = {
        "status": {"queries": rows[("status", largest)]["queries"],
                   "p95_ratio": round(status_ratio, 2)},
        "log": {f"queries_{smallest}": rows[("log", smallest)]["queries"],
                f"queries_{largest}": rows[("log", largest)]["queries"]},
    }
    if (smallest, largest) != (10, 100000):
        print(f"(sizes {smallest}..{largest}, not 10..100000: JSON keys carry the sizes run; "
              f"status figures are at {largest} and ÷ {smallest})")
    merge_results(args.json, {"pages": figures})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
