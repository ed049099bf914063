"""Issue 19: a Sync now whose company runs out of requests (the limiter's full window, or
Fortnox's 429) gives its remaining rows to the push job and ends without a failed request.
It must not look like a complete sync: the run says how many items still wait, the card says
so while they do, and "Last successful sync" does not move."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aourly_fortnox.models import SyncRun
from aourly_fortnox.state import state

from ..plugin.conftest import login
from .async_support import Harness, PrivateRedis, wait_for
from .test_card_truth import card, last_sync, latest_run, sync_now

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def test_a_sync_that_runs_out_of_requests_says_its_items_still_wait(
    harness: Callable[..., Harness], private_redis: PrivateRedis
) -> None:
    # 12 requests per 10 s: the sync's import takes about half, its pushes the rest, and a
    # push waits at most AOURLY_FORTNOX_LIMITER_MAX_WAIT (0.5 s) before it gives its rows
    # back. No reconcile sweep: only the sync runs.
    h = harness(AOURLY_FORTNOX_RATE_LIMIT="12/10", AOURLY_FORTNOX_TICK_INTERVAL=3600)
    h.connect()
    connected = last_sync(h.app)
    ids = [f"c{n}.{n}" for n in range(1, 11)]  # 10 invoices of 10 new customers: 20 items
    h.send(*ids)
    private_redis.client.flushdb()  # no push job queued by the sends; a fresh budget
    client = h.app.test_client()
    login(client)
    sync_now(client)
    worker = h.worker(scheduler=False, burst=True)  # the push job nudged later never runs
    assert worker.wait(timeout=120) == 0, worker.tail()

    run = latest_run(h.app)
    with h.app.app_context():
        rows = [*h.records("acme", "invoice").values(),
                *h.records("acme", "customer").values()]
        pending = [r for r in rows if r["state"] == "pending"]
        assert state(h.app).db.session.query(SyncRun).count() == 2  # connect, Sync now
    assert 0 < len(pending) < 20, "the sync should have sent some items, not all"
    assert (run.kind, run.state, run.message) == ("sync", "finished", "SYNC_WAITING")
    assert run.message_params is not None
    assert run.message_params["waiting"] == len(pending)
    assert run.message_params["sent"] == 20 - len(pending)
    assert last_sync(h.app) == connected  # not a complete sync
    shown = card(client)
    assert f"{len(pending)} waiting" in shown
    assert (f"Sent {20 - len(pending)} so far; {len(pending)} items are still waiting and "
            f"go to Fortnox by themselves.") in shown
    log = client.get("/integrations/fortnox/log").get_data(as_text=True)
    assert "are still waiting and go to Fortnox by themselves" in log

    # Once the push job has sent them, the card's line goes.
    h.worker(name="w2")
    wait_for("every item sent", lambda: h.synced(ids), timeout=120, interval=0.2)
    assert "still waiting" not in card(client)
