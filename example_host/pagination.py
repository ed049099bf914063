"""A plain page-number paginator (``?page=N``): lists of 1000+ invoices stay fast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from .extensions import db

T = TypeVar("T")
PER_PAGE = 50


@dataclass
class Page(Generic[T]):
    items: list[T]
    number: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(query: Select[Any], raw_page: str | None, per_page: int = PER_PAGE) -> Page[Any]:
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    pages = max(1, -(-total // per_page))
    try:
        number = int(raw_page or 1)
    except ValueError:
        number = 1
    number = min(max(number, 1), pages)  # out of range: the nearest real page, not an error
    items = list(db.session.scalars(query.limit(per_page).offset((number - 1) * per_page)))
    return Page(items=items, number=number, pages=pages, total=total)
