"""The sync log's read model: a company's items, a page at a time, and the history of runs.

Every page costs the same few statements whatever the number of records: one page of rows for
the chosen filter, the counts (the filter's total and the tabs') from the maintained summary,
and the latest runs. Items are named as the owner knows them (the label stored when the item was
recorded) and linked to the host's page through the optional ``object_url`` hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import url_for
from sqlalchemy import select

from ..fortnox import errors as fortnox_errors
from ..i18n import N_
from ..i18n import gettext as _
from ..models import RecordState, SyncRecord, SyncRun
from ..queries import recent_runs, record_summary, session, totals
from ..state import state

PAGE_SIZE = 50
#: A row id no real row has in a URL built once for the page (the routes' largest id).
_ID_PLACEHOLDER = 2**31 - 1

#: The log's state filters: a name in the URL -> the states it lists.
FILTERS: dict[str, tuple[str, ...]] = {
    "needs_attention": (RecordState.NEEDS_ATTENTION,),
    "waiting": (RecordState.PENDING, RecordState.FAILED),
    "held": (RecordState.HELD,),
    "earlier": (RecordState.EARLIER,),
    "synced": (RecordState.SYNCED,),
}
TYPES = ("customer", "invoice", "voucher")
#: An item's type as the owner reads it before its name ("Invoice 2025-0042").
KIND_WORDS = {"invoice": N_("Invoice"), "customer": N_("Customer"), "voucher": N_("Voucher")}

#: Reason codes whose fix is on one of our pages: (the link's words, the endpoint).
FIX_PAGES: dict[str, tuple[str, str]] = {
    "ACCOUNT_UNMAPPED": (N_("Open the account mapping"), "aourly_fortnox.mapping_page"),
    "ACCOUNT_MISSING": (N_("Open the account mapping"), "aourly_fortnox.mapping_page"),
    "ACCOUNT_INACTIVE": (N_("Open the account mapping"), "aourly_fortnox.mapping_page"),
}


def _sdk_sentences() -> frozenset[str]:
    """Our Fortnox SDK's own English sentences (a failure without Fortnox's own text stores
    one of them as its message): never shown as what Fortnox said."""
    found: set[str] = set(fortnox_errors.REASONS.values())
    found |= set(fortnox_errors.OAUTH_REASONS.values())
    found |= set(getattr(fortnox_errors, "_STATUS_REASONS", {}).values())
    classes: list[type] = [fortnox_errors.FortnoxError]
    while classes:
        cls = classes.pop()
        found.add(str(getattr(cls, "default_reason", "")))
        classes.extend(cls.__subclasses__())
    return frozenset(found)


SDK_SENTENCES = _sdk_sentences()


@dataclass
class Item:
    """One row of the log, with what the owner needs to act on it."""

    record: SyncRecord
    url: str | None
    #: Where the owner fixes it: (the link's words, translated; the page's URL).
    fix: tuple[str, str] | None
    #: Where its Retry button posts.
    retry_url: str

    @property
    def name(self) -> str:
        """The item as the owner knows it (the stored label, else its type and id)."""
        word = KIND_WORDS.get(self.record.object_type)
        kind = _(word) if word else self.record.object_type  # one translation a row, not three
        return f"{kind} {self.record.label or self.record.object_id}"

    @property
    def fortnox_said(self) -> str:
        """Fortnox's own words (verbatim, usually Swedish). Our SDK's English sentence, stored
        when Fortnox said nothing, is left out: the reason beside it says it in the owner's
        language."""
        message = self.record.fortnox_message or ""
        return "" if message in SDK_SENTENCES else message


@dataclass
class RunLine:
    """A run in the history: counts and duration."""

    run: SyncRun

    @property
    def seconds(self) -> int | None:
        """How long the run took (None while it runs or when it never started)."""
        start: datetime | None = self.run.started_at
        end: datetime | None = self.run.finished_at
        if start is None or end is None:
            return None
        return max(0, int((end - start).total_seconds()))


@dataclass
class SyncLog:
    """What the log page lists."""

    state: str
    object_type: str | None
    page: int
    total: int
    items: list[Item]
    counts: dict[str, int]
    runs: list[RunLine]
    filters: tuple[str, ...] = field(default=tuple(FILTERS))
    types: tuple[str, ...] = TYPES

    @property
    def problems(self) -> list[SyncRecord]:
        """The listed rows (older templates' name)."""
        return [item.record for item in self.items]

    @property
    def pages(self) -> int:
        """How many pages the filter has (at least one)."""
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def first(self) -> int:
        """The position of the page's first item (1-based; 0 on an empty page)."""
        return 0 if not self.items else (self.page - 1) * PAGE_SIZE + 1

    @property
    def last(self) -> int:
        """The position of the page's last item."""
        return self.first + len(self.items) - 1 if self.items else 0

    def count(self, name: str) -> int:
        """A tab's count (from the maintained summary, the card's numbers)."""
        return sum(self.counts.get(s, 0) for s in FILTERS.get(name, ()))


def object_url(object_type: str, object_id: str) -> str | None:
    """The host's page of the item, through the optional ``@fortnox.object_url`` hook."""
    return state().ext.object_url_for(object_type, object_id)


def build(company_id: str, state_name: str | None = None, object_type: str | None = None,
          page: int = 1) -> SyncLog:
    """One page of the company's items in the chosen state (needs attention by default),
    newest first, and its latest runs."""
    name = state_name if state_name in FILTERS else "needs_attention"
    kind = object_type if object_type in TYPES else None
    page = max(1, page)
    where = [SyncRecord.company_id == company_id, SyncRecord.state.in_(FILTERS[name])]
    if kind is not None:
        where.append(SyncRecord.object_type == kind)
    summary = record_summary(company_id)
    # The filter's total from the maintained summary too (per type and state): counting the
    # rows was the one read that grew with the records (1.1 ms at 20,000 in a state).
    total = sum(by_state.get(s, 0) for object_type, by_state in summary.items()
                if kind is None or object_type == kind for s in FILTERS[name])
    rows = list(session().execute(
        select(SyncRecord).where(*where).order_by(SyncRecord.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).scalars())
    fixes: dict[str, tuple[str, str]] = {}  # each fix's link made once for the page
    for code in {r.error_code for r in rows if r.error_code in FIX_PAGES}:
        words, endpoint = FIX_PAGES[str(code)]
        fixes[str(code)] = (_(words), url_for(endpoint))
    # Each row's Retry URL from one url_for with a placeholder id (a url_for a row was a fifth
    # of a full page's rendering: bench/pages.py).
    retry = url_for("aourly_fortnox.retry_one", record_id=_ID_PLACEHOLDER)
    items = [Item(r, object_url(r.object_type, r.object_id), fixes.get(r.error_code or ""),
                  retry.replace(str(_ID_PLACEHOLDER), str(int(r.id))))
             for r in rows]
    return SyncLog(
        state=name, object_type=kind, page=page, total=total, items=items,
        counts=totals(summary),
        runs=[RunLine(run) for run in recent_runs(company_id)],
    )


def page_args(log: SyncLog, **changes: Any) -> dict[str, Any]:
    """The query arguments of a link to another page or filter of the log."""
    args: dict[str, Any] = {"state": log.state, "page": log.page}
    if log.object_type:
        args["type"] = log.object_type
    args.update(changes)
    return {k: v for k, v in args.items() if v is not None}
