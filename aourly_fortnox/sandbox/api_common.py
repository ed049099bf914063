"""Fortnox's REST API under ``/3/``: the blueprint and what its views share.

The gate (:mod:`.gate`) has already checked the bearer token, the rate limit, faults, the
scope each view declares with :func:`requires` and the licence; a view sees the tenant in
``g.tenant``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from flask import Blueprint, Response, g, request

from . import errors
from .gate import sandbox
from .store import Store

bp = Blueprint("fortnox_api", __name__, url_prefix="/3")
View = TypeVar("View", bound=Callable[..., Any])


def requires(scope: str) -> Callable[[View], View]:
    """Declare the OAuth scope a view needs (docs/fortnox.md); the gate checks it."""

    def mark(view: View) -> View:
        view.fortnox_scope = scope  # type: ignore[attr-defined]
        return view

    return mark


def tenant() -> tuple[Store, int]:
    """The store and the company the bearer token answers for: a view acts for that one only."""
    return sandbox().store, int(g.tenant)


def base_url() -> str:
    """Where ``@url`` links point: this server, as Fortnox points at api.fortnox.se."""
    return request.host_url.rstrip("/")


def ok(payload: Any, status: int = 200, location: str | None = None) -> Response:
    """A JSON answer; a 201 carries ``Location`` as a bare word (``customers``), as recorded."""
    return errors.json_response(payload, status, {"Location": location} if location else None)


def read_envelope(name: str) -> dict[str, Any]:
    """The object inside ``{"<name>": {...}}``; amounts parse as Decimal."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise errors.no_data()
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise errors.bad_request(errors.JSON_SYNTAX, "Felaktig JSON-syntax.") from None
    if not isinstance(body, dict) or not isinstance(body.get(name), dict):
        raise errors.no_data()
    for key in body:
        if key != name:
            raise errors.bad_request(errors.INVALID_FIELD, f"Felaktigt fältnamn ({key})")
    inner: dict[str, Any] = body[name]
    return inner

