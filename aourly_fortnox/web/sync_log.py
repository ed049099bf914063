"""The sync log's read model: items that need the owner, and the history of runs."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import SyncRecord, SyncRun
from ..queries import recent_runs
from ..sync.outbox import problem_records


@dataclass
class SyncLog:
    """What the log page lists."""

    problems: list[SyncRecord]
    runs: list[SyncRun]


def build(company_id: str) -> SyncLog:
    """The company's failed items (newest first) and its latest runs."""
    return SyncLog(problems=problem_records(company_id), runs=recent_runs(company_id))
