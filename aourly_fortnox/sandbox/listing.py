"""List answers: query parameters, filters and pagination the way Fortnox does them.

``page`` (1-based) and ``limit`` (default 100, at most 500); ``MetaInformation`` comes first
with integers; an empty result says ``@TotalPages: 0`` and ``@CurrentPage: 1`` (recorded).
Resource searches are contains-matches, case-insensitive, like Fortnox's LIKE
(docs/fortnox.md). ``lastmodified`` is ``YYYY-MM-DD HH:MM`` in Swedish local time and keeps
objects changed at or after it. Any parameter a resource does not know is 400 code 2000587.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from . import errors
from .ledger import STOCKHOLM
from .store import Record
from .values import to_date

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
#: Accepted on every list: paging, sorting, and the global lastmodified filter.
COMMON = frozenset({"page", "limit", "offset", "sortby", "sortorder", "lastmodified"})
_LASTMODIFIED_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def check_params(args: Mapping[str, str], allowed: Iterable[str]) -> None:
    """Refuse any query parameter this resource does not know (2000587)."""
    known = COMMON | set(allowed)
    for name in args:
        if name not in known:
            raise errors.bad_request(errors.INVALID_FILTER, "Ett ogiltigt filter har använts.")


def parse_lastmodified(value: str) -> float:
    """``YYYY-MM-DD HH:MM`` (Swedish local time) as epoch seconds."""
    for fmt in _LASTMODIFIED_FORMATS:
        try:
            moment = datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
        return moment.replace(tzinfo=STOCKHOLM).timestamp()
    raise errors.bad_request(errors.INVALID_PARAMETER, "Ogiltig parameter (lastmodified).")


def modified_since(records: list[Record], args: Mapping[str, str]) -> list[Record]:
    """Fortnox's ``lastmodified``: objects changed at or after it, for incremental reads."""
    if not args.get("lastmodified"):
        return records
    since = parse_lastmodified(args["lastmodified"])
    return [record for record in records if record.modified >= since]


def contains(value: Any, needle: str) -> bool:
    """Fortnox's LIKE search: ``abc`` also matches ``xabcx``."""
    return needle.lower() in ("" if value is None else str(value)).lower()


def apply_searches(
    items: list[dict[str, Any]], args: Mapping[str, str], fields: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Keep items whose field contains each given search (parameter name -> field name)."""
    for param, field in fields.items():
        needle = args.get(param)
        if needle:
            items = [item for item in items if contains(item.get(field), needle)]
    return items


def date_range(
    items: list[dict[str, Any]], args: Mapping[str, str], field: str
) -> list[dict[str, Any]]:
    """``fromdate`` / ``todate`` inclusive on a date field."""
    if args.get("fromdate"):
        start = to_date(args["fromdate"], "fromdate").isoformat()
        items = [item for item in items if (item.get(field) or "") >= start]
    if args.get("todate"):
        end = to_date(args["todate"], "todate").isoformat()
        items = [item for item in items if (item.get(field) or "9999") <= end]
    return items


def _int_param(args: Mapping[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise errors.bad_request(errors.INVALID_PARAMETER, f"Ogiltig parameter ({name}).") from None


def _sort(items: list[dict[str, Any]], args: Mapping[str, str]) -> list[dict[str, Any]]:
    sortby = args.get("sortby")
    if not sortby:
        return items
    names = {key.lower(): key for item in items[:1] for key in item}
    field = names.get(sortby.lower())
    if field is None:
        raise errors.bad_request(errors.INVALID_PARAMETER, f"Ogiltig parameter (sortby={sortby}).")
    descending = (args.get("sortorder") or "ascending").lower() == "descending"

    def key(item: dict[str, Any]) -> tuple[int, Any]:
        value = item.get(field)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (0, value)
        text = "" if value is None else str(value)
        return (0, int(text)) if text.isdigit() else (1, text.lower())

    return sorted(items, key=key, reverse=descending)


def list_response(
    collection: str,
    items: list[dict[str, Any]],
    args: Mapping[str, str],
    present: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """One page of ``items`` (full stored objects) as ``present`` shows them in a list."""
    limit = _int_param(args, "limit", DEFAULT_LIMIT)
    if limit < 1 or limit > MAX_LIMIT:
        raise errors.bad_request(
            errors.INVALID_PARAMETER, f"Ogiltig parameter (limit). Högsta tillåtna är {MAX_LIMIT}."
        )
    page = _int_param(args, "page", 1)
    offset = _int_param(args, "offset", 0)
    if page < 1 or offset < 0:
        raise errors.bad_request(errors.INVALID_PARAMETER, "Ogiltig parameter (page).")
    items = _sort(items, args)[offset:]
    total = len(items)
    pages = math.ceil(total / limit)
    start = (page - 1) * limit
    return {
        "MetaInformation": {
            "@TotalResources": total,
            "@TotalPages": pages,
            "@CurrentPage": page,
        },
        collection: [present(item) for item in items[start : start + limit]],
    }
