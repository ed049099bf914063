"""A stable digest of what we send to Fortnox, so unchanged data costs no request."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def body_hash(body: dict[str, Any]) -> str:
    """The same body always gives the same digest (keys sorted, Decimals as text)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
