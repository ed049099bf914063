"""Issue 19, bursts: a 429 is Fortnox's budget running out, not the row's fault. A row that
meets more 429s than ``AOURLY_FORTNOX_MAX_ATTEMPTS`` still reaches Fortnox, counting none of
them as an attempt (they handed rows to the owner after a few bursts before)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .async_support import Harness, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def test_more_429s_than_the_retry_cap_still_sync_the_invoice_and_count_no_attempt(
    harness: Callable[..., Harness], sandbox: Any
) -> None:
    h = harness(AOURLY_FORTNOX_MAX_ATTEMPTS=2)
    h.connect()
    sandbox.admin("DELETE", "/_admin/stats")
    sandbox.faults(burst_429=5)
    h.worker()
    seen: set[tuple[str, int, str | None]] = set()

    def synced() -> bool:
        for kind in ("customer", "invoice"):
            for row in h.records(object_type=kind).values():
                seen.add((row["state"], row["attempts"], row["error_code"]))
        return h.synced(["c1.1"])

    h.send("c1.1")
    wait_for("the invoice synced", synced, timeout=60, interval=0.05)
    assert sandbox.stats()[f"{sandbox.client_id}/1001"]["429"] == 5
    assert h.copies() == {"c1.1": 1}
    assert {attempts for _, attempts, _ in seen} == {0}
    assert not {code for _, _, code in seen} & {"RETRYING", "RETRIES_EXHAUSTED"}
