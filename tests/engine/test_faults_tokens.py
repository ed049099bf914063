"""Issue 19, token races: 8 workers, access tokens that live 2 s and the sandbox's
refresh-reuse detection on (a refresh token sent twice revokes the whole chain), for 60 s of
traffic. Two companies push invoices, "Sync now" imports run beside their push jobs, and the
tick rotates every company's refresh token each second (keep-alive), so refreshes from
different processes meet all the time. Not one refresh token is sent twice, nothing gets
``invalid_grant``, and both connections stay Connected.

Size: ``AOURLY_FAULTS_SECONDS`` (60) seconds of traffic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from rq import Worker

from aourly_fortnox.models import Connection
from aourly_fortnox.state import state
from aourly_fortnox.sync.runs import enqueue_import

from .async_support import Harness, PrivateRedis, wait_for
from .fault_support import Figures, scaled

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.faults]

COMPANIES = {"acme": ("owner", 1001), "globex": ("globex-owner", 1002)}
WORKERS = 8
ACCESS_TTL = 2


def test_tokens_living_two_seconds_are_refreshed_by_eight_workers_without_a_reuse(
    harness: Callable[..., Harness], sandbox: Any, private_redis: PrivateRedis
) -> None:
    seconds = scaled("SECONDS", 60)
    h = harness(AOURLY_FORTNOX_REFRESH_MARGIN=0.5, AOURLY_FORTNOX_KEEPALIVE_INTERVAL=1)
    sandbox.configure(access_ttl=ACCESS_TTL, refresh_reuse_revokes=True)
    for company, (user, database_number) in COMPANIES.items():
        h.connect(company, user, database_number)
    sandbox.admin("DELETE", "/_admin/stats")
    for n in range(WORKERS):
        h.worker(f"w{n + 1}")
    wait_for("eight workers", lambda: len(Worker.all(connection=private_redis.client))
             == WORKERS, timeout=60)

    sent: dict[str, list[str]] = {company: [] for company in COMPANIES}
    imports = 0
    stop = threading.Event()

    def traffic() -> None:
        nonlocal imports
        n = 0
        while not stop.is_set():
            n += 1
            for company in COMPANIES:
                invoice = f"c{n % 7 + 1}.{n}"
                h.send(invoice, company=company)
                sent[company].append(invoice)
                if n % 10 == 0:  # "Sync now": an import runs beside the push job
                    with h.app.app_context():
                        enqueue_import(company, kind="sync")
                        state(h.app).db.session.remove()
                    imports += 1
            stop.wait(0.25)

    started = time.monotonic()
    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        stop.wait(seconds)
    finally:
        stop.set()
        sender.join(timeout=60)
    for company in COMPANIES:
        wait_for(f"{company}'s invoices synced",
                 lambda c=company: h.synced(sent[c], company=c),  # type: ignore[misc]
                 timeout=120, interval=0.5)
    elapsed = time.monotonic() - started

    stats = sandbox.stats()
    tokens = [t for company, (_, db) in COMPANIES.items()
              for t in sandbox.refresh_tokens(f"{sandbox.client_id}/{db}")]
    reused = [t for t in tokens if t["uses"] > 1]
    killed = [t for t in tokens if t["state"] == "revoked"]
    with h.app.app_context():
        statuses = {c.company_id: str(c.status) for c in
                    state(h.app).db.session.query(Connection).all()}
        state(h.app).db.session.remove()
    refreshes = sum(stats.get(f"{sandbox.client_id}/{db}", {}).get("token", 0)
                    for _, db in COMPANIES.values())
    requests = sum(stats.get(f"{sandbox.client_id}/{db}", {}).get("requests", 0)
                   for _, db in COMPANIES.values())
    figures = Figures("token races", faults=refreshes)
    figures.count({**{f"acme:{k}": v for k, v in h.copies("acme", 1001).items()},
                   **{f"globex:{k}": v for k, v in h.copies("globex", 1002).items()}},
                  [f"{c}:{i}" for c, ids in sent.items() for i in ids])
    figures.extra = {"workers": WORKERS, "seconds of traffic": seconds,
                     "access token lifetime (s)": ACCESS_TTL, "imports": imports,
                     "/3/ requests": requests, "refresh tokens sent twice": len(reused),
                     "revoked chains": len(killed), "connections": statuses,
                     "wall (s)": round(elapsed, 1)}
    figures.print()
    assert refreshes >= 2 * seconds // ACCESS_TTL  # the tokens did run out, many times over
    assert reused == [] and killed == []  # no invalid_grant: no token was ever sent twice
    assert statuses == {"acme": "connected", "globex": "connected"}
    assert (figures.duplicates, figures.lost) == (0, 0)
