"""Thin RQ entry points, queued by dotted name (``aourly_fortnox.jobs.run_import``).

Each runs inside the worker's app context; the rules live in ``aourly_fortnox.sync``.
"""

from __future__ import annotations

from .sync import importer, push


def run_import(company_id: str, run_id: int) -> None:
    """The job behind Connect, Refresh chart, Sync now and the scheduled sync."""
    importer.run_import(company_id, run_id)


def run_push(company_id: str, job_id: str | None = None) -> None:
    """The company's push job: due customers, then invoices, to Fortnox."""
    push.run_push(company_id, job_id)
