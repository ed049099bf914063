"""The sandbox's settings: the OAuth client it accepts, lifetimes, the rate limit, what a
reused refresh token does.

One dataclass shared by the CLI (``__main__``), :func:`testing.running_sandbox` and the
``/_admin/settings`` endpoint, which changes the run-time ones (TTLs, rate limit, Retry-After,
refresh-token reuse) while the server runs. Lifetimes are floats so tests can run them scaled
down.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Fortnox's real numbers (docs/fortnox.md, "Numbers").
DEFAULT_ACCESS_TTL = 3600.0
DEFAULT_REFRESH_TTL = 45 * 24 * 3600.0
DEFAULT_CODE_TTL = 600.0
DEFAULT_RATE_LIMIT = (25, 5.0)

#: Settings ``POST /_admin/settings`` may change at run time.
RUNTIME_KEYS = (
    "access_ttl", "refresh_ttl", "code_ttl", "rate_limit", "retry_after",
    "refresh_reuse_revokes",
)  # fmt: skip


class SettingsError(ValueError):
    """A setting has an unusable value (message names the setting)."""


def parse_rate_limit(value: Any) -> tuple[int, float]:
    """``"25/5"``, ``(25, 5)`` or ``[25, 5]`` -> ``(25, 5.0)`` requests per seconds."""
    if isinstance(value, str):
        parts = value.split("/")
        if len(parts) != 2:
            raise SettingsError(f"rate_limit must look like '25/5', got {value!r}")
        raw_count, raw_window = parts
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        raw_count, raw_window = value
    else:
        raise SettingsError(f"rate_limit must be 'N/SECONDS' or a pair, got {value!r}")
    try:
        count, window = int(raw_count), float(raw_window)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"rate_limit must be numbers, got {value!r}") from exc
    if count < 1 or window <= 0:
        raise SettingsError(f"rate_limit needs at least 1 request per positive window: {value!r}")
    return count, window


def _positive(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{name} must be a number of seconds, got {value!r}") from exc
    if number <= 0:
        raise SettingsError(f"{name} must be positive, got {value!r}")
    return number


def _retry_after(value: Any) -> int | None:
    if value is None:
        return None
    try:
        seconds = int(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"retry_after must be whole seconds or null, got {value!r}") from exc
    if seconds < 0:
        raise SettingsError("retry_after must not be negative")
    return seconds


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{name} must be true or false, got {value!r}")
    return value


@dataclass
class Settings:
    """Everything one sandbox run needs; see the CLI flags in ``__main__``."""

    client_id: str = "demo-client"
    client_secret: str = "demo-secret"
    #: Empty: any loopback redirect URI; else the exact strings accepted.
    redirect_uris: tuple[str, ...] = ()
    access_ttl: float = DEFAULT_ACCESS_TTL
    refresh_ttl: float = DEFAULT_REFRESH_TTL
    code_ttl: float = DEFAULT_CODE_TTL
    rate_limit: tuple[int, float] = DEFAULT_RATE_LIMIT
    #: ``None``: a 429 carries no Retry-After header (what Fortnox was seen doing).
    retry_after: int | None = None
    #: A refresh token used a second time revokes its whole chain (every refresh and access
    #: token of that consent): the pessimistic reading of Fortnox's warning (docs/sandbox.md).
    #: ``False``: the second use is only refused.
    refresh_reuse_revokes: bool = True
    extra_accounts: int = 0
    seed: int = 0
    #: SQLite file; ``None`` keeps everything in memory.
    db: str | None = None
    #: Do not log each request (the CLI's ``--quiet``; tests).
    quiet: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Settings:
        """Build from loose keyword values (strings from a CLI, tuples, lists...)."""
        settings = cls()
        known = {name for name in cls.__dataclass_fields__ if not name.startswith("_")}
        unknown = set(kwargs) - known
        if unknown:
            raise SettingsError(f"unknown sandbox setting(s): {', '.join(sorted(unknown))}")
        for name in ("client_id", "client_secret"):
            if name in kwargs:
                setattr(settings, name, str(kwargs[name]))
        if kwargs.get("redirect_uris") is not None:
            uris = kwargs["redirect_uris"]
            settings.redirect_uris = (uris,) if isinstance(uris, str) else tuple(uris)
        if kwargs.get("extra_accounts") is not None:
            settings.extra_accounts = int(kwargs["extra_accounts"])
            if not 0 <= settings.extra_accounts <= 8000:
                raise SettingsError("extra_accounts must be between 0 and 8000")
        if kwargs.get("seed") is not None:
            settings.seed = int(kwargs["seed"])
        if kwargs.get("db") is not None:
            settings.db = str(kwargs["db"])
        settings.quiet = bool(kwargs.get("quiet", False))
        settings.update({k: kwargs[k] for k in RUNTIME_KEYS if k in kwargs})
        return settings

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply run-time changes; validates all of them before changing any."""
        unknown = set(changes) - set(RUNTIME_KEYS)
        if unknown:
            raise SettingsError(f"not a run-time setting: {', '.join(sorted(unknown))}")
        parsed: dict[str, Any] = {}
        for name in ("access_ttl", "refresh_ttl", "code_ttl"):
            if name in changes:
                parsed[name] = _positive(name, changes[name])
        if "rate_limit" in changes:
            parsed["rate_limit"] = parse_rate_limit(changes["rate_limit"])
        if "retry_after" in changes:
            parsed["retry_after"] = _retry_after(changes["retry_after"])
        if "refresh_reuse_revokes" in changes:
            parsed["refresh_reuse_revokes"] = _flag(
                "refresh_reuse_revokes", changes["refresh_reuse_revokes"]
            )
        with self._lock:
            for name, value in parsed.items():
                setattr(self, name, value)

    def runtime(self) -> dict[str, Any]:
        """The run-time settings as JSON (``rate_limit`` as ``"25/5"``)."""
        with self._lock:
            count, window = self.rate_limit
            return {
                "access_ttl": self.access_ttl,
                "refresh_ttl": self.refresh_ttl,
                "code_ttl": self.code_ttl,
                "rate_limit": f"{count}/{window:g}",
                "retry_after": self.retry_after,
                "refresh_reuse_revokes": self.refresh_reuse_revokes,
            }

    def accepts_redirect_uri(self, uri: str) -> bool:
        """Registered URIs match as raw strings; without any, every loopback URI is fine."""
        if self.redirect_uris:
            return uri in self.redirect_uris
        return is_loopback_uri(uri)


def is_loopback_uri(uri: str) -> bool:
    """``http://127.0.0.1:*`` or ``http://localhost:*`` (no fragment), as a developer uses."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and parts.hostname in {"127.0.0.1", "localhost"}
        and (not parts.fragment)
    )


def format_redirect_rule(uris: Iterable[str]) -> str:
    """How the CLI banner describes the accepted redirect URIs."""
    listed = list(uris)
    if not listed:
        return "any loopback URI (http://127.0.0.1:*, http://localhost:*)"
    return ", ".join(listed)
