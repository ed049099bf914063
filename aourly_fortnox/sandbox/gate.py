"""What happens to every ``/3/`` request before and after its view, in Fortnox's order.

1. injected latency; 2. the bearer token (401 ``{"message":"unauthorized"}``), attributing the
request to ``<client>/<DatabaseNumber>`` for the stats; 3. a forced 429 burst, then the
sliding-window limit (429, not counted); 4. an injected 5xx: before the view ("unapplied") or,
for a write, after it ran ("applied": the change is kept, the client cannot know); 5. the
token's scope (400, 2000663); 6. the company's licence (400, 2001103).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask import Response, current_app, g, request

from . import errors

if TYPE_CHECKING:
    from .app import Sandbox

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def sandbox() -> Sandbox:
    """This app's sandbox state (nothing is global: a test process may run several sandboxes)."""
    return current_app.extensions["fortnox_sandbox"]  # type: ignore[no-any-return]


def bearer_token() -> str | None:
    """The token from ``Authorization: Bearer ...``; None if absent or another scheme."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def fault_response(status: int) -> Response:
    """An injected 5xx: a JSON 500 from Fortnox itself, or a proxy's HTML page for 502 to 504."""
    if status == 500:
        return errors.json_response(
            errors.error_body(500, errors.SYSTEM_EXCEPTION, "Ett systemfel har uppstått."), 500
        )
    titles = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
    return errors.html_error(status, titles[status])


def too_many_requests() -> Response:
    """Fortnox's 429: no body, and ``Retry-After`` only if configured (Fortnox sends none)."""
    response = Response(status=429)
    retry_after = sandbox().settings.retry_after
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def before_api_request() -> Response | None:
    """Registered as the app's ``before_request``; only ``/3/`` paths are gated."""
    if not request.path.startswith("/3/"):
        return None
    state = sandbox()
    if state.faults.latency():
        time.sleep(state.faults.latency())
    token = bearer_token()
    owner = state.grants.owner(token) if token else None
    key = None
    if owner is not None:
        key = f"{owner.client_id}/{owner.db}"
    elif token:
        claims = state.grants.read_claims(token)
        if claims and "tenantId" in claims and "clientId" in claims:
            key = f"{claims['clientId']}/{claims['tenantId']}"
    if key:
        state.stats.add(key, "requests")
    if owner is None or not owner.valid or key is None:
        return errors.unauthorized()
    count, window = state.settings.rate_limit
    if state.faults.take_burst() or not state.limiter.admit(key, count, window):
        state.stats.add(key, "429")
        return too_many_requests()
    g.tenant = owner.db
    g.stats_key = key
    fault = state.faults.draw_api(request.method in WRITE_METHODS)
    if fault is not None:
        kind, status = fault
        if kind == "unapplied":
            state.stats.add(key, "5xx")
            return fault_response(status)
        g.applied_fault = status
    view = current_app.view_functions.get(request.endpoint or "")
    scope = getattr(view, "fortnox_scope", None)
    if scope is not None and scope not in owner.scopes:
        return errors.json_response(
            errors.error_body(400, errors.SCOPE_MISSING, "Har inte behörighet för scope."), 400
        )
    if state.store.company_settings(owner.db).get("locked"):
        return errors.json_response(
            errors.error_body(
                400, errors.NO_API_LICENSE, "Företaget saknar aktiv licens för API:t."
            ),
            400,
        )
    return None


def after_api_request(response: Response) -> Response:
    """An "applied" fault: the view's change stands, the client sees a 5xx."""
    status = g.pop("applied_fault", None)
    if status is None:
        return response
    sandbox().stats.add(g.stats_key, "5xx")
    return fault_response(status)
