"""Every ``AOURLY_FORTNOX_*`` setting, its default, and the strict reader.

One place for defaults (like Flask-Security's), read once at ``init_app``. An unknown key
under the prefix is a start-up error that names the key and the closest known one, so a typo
never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "AOURLY_FORTNOX_"

log = logging.getLogger("aourly_fortnox")

#: name (without prefix) -> default. ``None`` means "no default".
DEFAULTS: dict[str, Any] = {
    # OAuth client registered in Fortnox's developer portal.
    "CLIENT_ID": None,
    "CLIENT_SECRET": None,
    "AUTH_URL": "https://apps.fortnox.se/oauth-v1",
    "API_URL": "https://api.fortnox.se",
    "REDIRECT_URI": None,  # None: the callback's external URL
    "SCOPES": "companyinformation customer invoice bookkeeping settings",
    # Comma-separated Fernet keys: the first encrypts, all decrypt (rotation).
    "TOKEN_KEYS": None,
    "REDIS_URL": None,
    "RATE_LIMIT": "24/5",
    "URL_PREFIX": "/integrations",
    # Full pages extend this template; a host sets its own layout (with a ``content`` block).
    "BASE_TEMPLATE": "aourly_fortnox/standalone.html",
    # The host's product name in every owner-visible sentence ("%(product)s" in the catalogue).
    "PRODUCT_NAME": "Aourly",
    "HTTP_TIMEOUT": 30.0,
    # Refresh an access token this many seconds before it expires.
    "REFRESH_MARGIN": 120.0,
    # Rotate an idle connection's refresh token this often (Fortnox's lives 45 days).
    "KEEPALIVE_INTERVAL": 3 * 24 * 3600,
    # Fortnox refresh tokens live 45 days (docs/fortnox.md, "Authorization"); past that: Expired.
    "REFRESH_TOKEN_LIFETIME": 45 * 24 * 3600,
    # RQ queues: live pushes and bulk backfills are separate so a backfill never starves live work.
    "QUEUE_NAME": "aourly_fortnox",
    "BACKFILL_QUEUE_NAME": "aourly_fortnox_backfill",
    # False runs jobs inline (RQ's is_async=False): tests and scripts without a worker.
    "QUEUE_IS_ASYNC": True,
    # The periodic tick (keep-alive, scheduled sync, reconcile sweep), guarded by a Redis lock.
    "TICK_INTERVAL": 60,
    "SCHEDULED_SYNC_INTERVAL": 3600,
    # A queued run younger than this is never re-enqueued by the reconcile sweep; a push job
    # holds the rows it works on this long (renewed per row), then another job may take them.
    "LEASE_SECONDS": 120,
    # Our customers' numbers in Fortnox: this prefix and the host id's letters and digits.
    "CUSTOMER_NUMBER_PREFIX": "AOU",
    # Retries of a transient failure (network, 5xx): equal-jitter exponential backoff from
    # BACKOFF_BASE seconds, at most BACKOFF_CAP, then "needs attention" after MAX_ATTEMPTS
    # (with the defaults, at least 32 minutes after the first failure). A 429 is not counted:
    # the job gives its worker back and comes again when the window has room.
    "BACKOFF_BASE": 30.0,
    "BACKOFF_CAP": 3600.0,
    "MAX_ATTEMPTS": 8,
    # Rows a push job claims at a time, and how long it may wait in the rate limiter before it
    # gives its worker back and comes again later (a worker never sleeps in one company's
    # window while another company's work waits).
    "PUSH_BATCH": 25,
    "LIMITER_MAX_WAIT": 0.5,
    "HEARTBEAT_INTERVAL": 30,
    # The card warns "Automatic sync is not running" when no worker was seen for this long.
    "HEARTBEAT_STALE_AFTER": 600,
    # The Integrations card polls while something runs.
    "POLL_INTERVAL": 2,
    "TIMEZONE": "Europe/Stockholm",
    # The largest POST body a plugin form may send (its forms are a few hundred bytes); a
    # bigger one is a 413. Never more than the host's MAX_CONTENT_LENGTH.
    "MAX_FORM_BYTES": 64 * 1024,
    # Bearer token for monitoring's health check; None: only owners see the health JSON.
    "HEALTH_TOKEN": None,
}


class ConfigError(RuntimeError):
    """A missing, misspelled or invalid ``AOURLY_FORTNOX_*`` setting."""


@dataclass(frozen=True)
class Settings:
    """The plugin's settings for one app, read once. Access by attribute (``settings.api_url``)."""

    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        """Settings read as attributes; a misspelled name raises instead of passing as None."""
        try:
            return self.values[name.upper()]
        except KeyError:
            raise AttributeError(f"no setting {PREFIX}{name.upper()}") from None

    def __repr__(self) -> str:  # never show secrets
        """Settings for debugging, with the client secret and token keys masked."""
        shown = {
            k: ("***" if k in {"CLIENT_SECRET", "TOKEN_KEYS", "HEALTH_TOKEN"} and v else v)
            for k, v in self.values.items()
        }
        return f"Settings({shown!r})"


def _from_text(name: str, raw: str) -> Any:
    """An environment value (always text) in the type of the setting's default."""
    default = DEFAULTS.get(name[len(PREFIX):])
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw[:20]!r}")
    try:
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw[:20]!r}") from None
    return raw


def settings_from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    """Every ``AOURLY_FORTNOX_*`` variable of ``environ``, typed like its default, ready for
    ``app.config.update`` (the strict reader still refuses unknown names at ``init_app``)."""
    return {key: _from_text(key, value) for key, value in environ.items() if key.startswith(PREFIX)}


def read_settings(config: Mapping[str, Any]) -> Settings:
    """Read every ``AOURLY_FORTNOX_*`` key from a Flask config, refusing unknown ones."""
    unknown = [k for k in config if k.startswith(PREFIX) and k[len(PREFIX):] not in DEFAULTS]
    if unknown:
        key = sorted(unknown)[0]
        known = [PREFIX + name for name in DEFAULTS]
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise ConfigError(f"Unknown setting {key}.{hint}")
    values = {name: config.get(PREFIX + name, default) for name, default in DEFAULTS.items()}
    if not values["TOKEN_KEYS"]:
        values["TOKEN_KEYS"] = _testing_token_key(config)
    values["API_URL"] = _api_url(str(values["API_URL"] or ""))
    values["AUTH_URL"] = _auth_url(str(values["AUTH_URL"] or ""))
    prefix = str(values["URL_PREFIX"] or "")
    if not prefix.startswith("/"):
        raise ConfigError(f"{PREFIX}URL_PREFIX must start with '/', got {prefix!r}.")
    values["URL_PREFIX"] = prefix.rstrip("/")
    from .fortnox.ratelimit import parse_rate  # local: the SDK imports nothing of ours

    try:
        parse_rate(str(values["RATE_LIMIT"]))
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}RATE_LIMIT: {exc}") from None
    return Settings(values)


def _testing_token_key(config: Mapping[str, Any]) -> str:
    """An ephemeral Fernet key for an app with ``TESTING`` set, so a host's own test suite runs
    without configuring the plugin; anywhere else a missing key is a start-up error."""
    if not config.get("TESTING"):
        raise ConfigError(
            f"{PREFIX}TOKEN_KEYS is not set: Fortnox tokens are encrypted at rest and need a "
            "key. Generate one with "
            "`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`."
        )
    from cryptography.fernet import Fernet

    log.warning(
        "%sTOKEN_KEYS is not set and TESTING is on: Fortnox tokens are encrypted with an "
        "ephemeral key that dies with this app (never do this outside tests).", PREFIX,
    )
    return Fernet.generate_key().decode()


def _api_url(url: str) -> str:
    """The REST base without ``/3``: the client appends ``/3/...`` itself, and a pasted
    ``https://api.fortnox.se/3/`` would otherwise ask for ``/3/3/...``."""
    url = url.rstrip("/")
    if url.endswith("/3"):
        log.warning(
            "%sAPI_URL ends in /3, but the client appends /3/... itself: using %s. Set it "
            "without /3 to silence this.", PREFIX, url[:-2],
        )
        url = url[:-2]
    return url


def _auth_url(url: str) -> str:
    """The OAuth base (``.../oauth-v1``) even when the authorize or token URL was pasted."""
    url = url.rstrip("/")
    for endpoint in ("/auth", "/token"):
        if url.endswith(endpoint):
            log.warning(
                "%sAUTH_URL ends in %s, but it is the base of /auth, /token and /revoke: "
                "using %s. Set it without %s to silence this.",
                PREFIX, endpoint, url[: -len(endpoint)], endpoint,
            )
            return url[: -len(endpoint)]
    return url


def check_queue(settings: Settings, redis_given: bool, config: Mapping[str, Any]) -> None:
    """No Redis for a queue that needs one: a start-up error, not a 500 at the first Sync now.

    With ``TESTING`` set it is a warning (a host's own tests rarely run Redis): jobs then
    cannot be queued, and Sync now says the job queue is not reachable."""
    if not settings.queue_is_async or redis_given or settings.redis_url:
        return
    message = (
        f"{PREFIX}REDIS_URL is not set: the Fortnox job queue, rate limiter and locks need "
        "Redis (or pass redis= to init_app). Tests and scripts without Redis may set "
        f"{PREFIX}QUEUE_IS_ASYNC = False to run every job inline, in the request that starts "
        "it."
    )
    if not config.get("TESTING"):
        raise ConfigError(message)
    log.warning("%s TESTING is on, so this is only a warning: Sync now will answer that the "
                "job queue is not reachable.", message)
