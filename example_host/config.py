"""Configuration from the environment, with demo defaults a newcomer needs no setup for.

Precedence: the dict passed to ``create_app`` > environment variables > generated or demo
defaults. Every ``AOURLY_FORTNOX_*`` environment variable is passed to the plugin as the
Flask config key of the same name (converted to the type of the plugin's default), and
unknown ones too, so the plugin's strict reader can reject a misspelled key loudly.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aourly_fortnox import settings_from_environ

log = logging.getLogger("example_host")

DEFAULT_SANDBOX_PORT = 8765
DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"  # the sandbox's demo client, not a real secret

SECRET_KEY_FILE = "secret_key"
TOKEN_KEYS_FILE = "fortnox_token_keys"


def fortnox_settings_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The plugin's ``AOURLY_FORTNOX_*`` settings from the environment, typed by the plugin."""
    return settings_from_environ(environ)


def normalise_database_url(url: str) -> str:
    """``postgres://`` / ``postgresql://`` -> psycopg 3, the driver this project installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def sandbox_port(config: Mapping[str, Any], environ: Mapping[str, str]) -> int:
    raw = config.get("AOURLY_SANDBOX_PORT") or environ.get("AOURLY_SANDBOX_PORT")
    return int(raw) if raw else DEFAULT_SANDBOX_PORT


def _read_or_create_secret(path: Path, make: Any, what: str) -> str:
    """A development secret kept in the instance folder so it survives restarts."""
    if path.exists():
        value = path.read_text().strip()
        if value:
            log.warning(
                "%s comes from %s: a development default. Set it in the environment for "
                "anything but a demo.", what, path,
            )
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = str(make())
    # Owner-only: the file holds a key that decrypts stored Fortnox tokens.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    log.warning(
        "%s was not set: generated a development default in %s. Set it in the environment "
        "for anything but a demo.", what, path,
    )
    return value


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def build_config(
    instance_path: str, overrides: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Everything the app needs, resolved once at start-up."""
    env = os.environ if environ is None else environ
    cfg: dict[str, Any] = {}
    cfg.update(fortnox_settings_from_env(env))
    for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        if env.get(key):
            cfg[key] = env[key]
    cfg.update(overrides)

    instance = Path(instance_path)
    database_url = cfg.get("DATABASE_URL")
    if not database_url:
        instance.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{instance / 'example_host.db'}"
    cfg["DATABASE_URL"] = normalise_database_url(str(database_url))
    cfg.setdefault("SQLALCHEMY_DATABASE_URI", cfg["DATABASE_URL"])

    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _read_or_create_secret(
            instance / SECRET_KEY_FILE, lambda: secrets.token_urlsafe(48), "SECRET_KEY"
        )
    tokens_key = "AOURLY_FORTNOX_" + "TOKEN_KEYS"
    if not cfg.get(tokens_key):
        cfg[tokens_key] = _read_or_create_secret(
            instance / TOKEN_KEYS_FILE, _new_fernet_key, tokens_key
        )

    # REDIS_URL feeds the plugin's queue unless the plugin's own key says otherwise.
    redis_key = "AOURLY_FORTNOX_" + "REDIS_URL"
    if not cfg.get(redis_key) and cfg.get("REDIS_URL"):
        cfg[redis_key] = cfg["REDIS_URL"]

    apply_sandbox_defaults(cfg, sandbox_port(cfg, env))
    apply_security_defaults(cfg, env)
    return cfg


#: Where the demo is reached when nothing else is configured (``python -m example_host``).
DEMO_TRUSTED_HOSTS = ("127.0.0.1", "localhost")


def apply_security_defaults(cfg: dict[str, Any], environ: Mapping[str, str]) -> None:
    """Request size, session cookie, login throttle, and which Host headers to believe."""
    # A form of this host is a few KB; anything far larger is refused (413) before it is read.
    cfg.setdefault("MAX_CONTENT_LENGTH", 1024 * 1024)
    cfg.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    cfg.setdefault("SESSION_COOKIE_HTTPONLY", True)
    # Secure is also set per request when it came over HTTPS (security.SessionInterface).
    if environ.get("SESSION_COOKIE_SECURE"):
        cfg.setdefault("SESSION_COOKIE_SECURE",
                       environ["SESSION_COOKIE_SECURE"].lower() in {"1", "true", "yes", "on"})
    cfg.setdefault("LOGIN_FAILURES_PER_ACCOUNT", 5)
    cfg.setdefault("LOGIN_FAILURES_PER_ADDRESS", 20)
    cfg.setdefault("LOGIN_FAILURE_WINDOW", 15 * 60)
    if environ.get("TRUSTED_HOSTS") and not cfg.get("TRUSTED_HOSTS"):
        cfg["TRUSTED_HOSTS"] = [h.strip() for h in environ["TRUSTED_HOSTS"].split(",")
                                if h.strip()]
    # The plugin never builds its OAuth callback URL from an untrusted Host header: the demo
    # (on the sandbox, without AOURLY_FORTNOX_REDIRECT_URI) believes only the loopback names.
    if (cfg.get("EXAMPLE_HOST_USES_SANDBOX") and not cfg.get("TRUSTED_HOSTS")
            and not cfg.get("AOURLY_FORTNOX_" + "REDIRECT_URI")):
        cfg["TRUSTED_HOSTS"] = list(DEMO_TRUSTED_HOSTS)


def apply_sandbox_defaults(cfg: dict[str, Any], port: int) -> None:
    """Unset Fortnox URLs and client -> the demo sandbox (same for server and worker)."""
    base = f"http://127.0.0.1:{port}"
    demo = {
        "API_URL": base,
        "AUTH_URL": f"{base}/oauth-v1",
        "CLIENT_ID": DEMO_CLIENT_ID,
        "CLIENT_SECRET": DEMO_CLIENT_SECRET,
    }
    unset = [name for name in demo if not cfg.get("AOURLY_FORTNOX_" + name)]
    if 0 < len(unset) < len(demo):
        # Half a configuration is usually a mistake: say which parts are the demo's.
        log.warning(
            "Fortnox is partly configured: %s fall back to the demo sandbox on port %d.",
            ", ".join("AOURLY_FORTNOX_" + name for name in unset), port,
        )
    for name in unset:
        cfg["AOURLY_FORTNOX_" + name] = demo[name]
    cfg["AOURLY_SANDBOX_PORT"] = port
    # The sandbox child is only worth starting when the API is the demo one.
    cfg["EXAMPLE_HOST_USES_SANDBOX"] = cfg["AOURLY_FORTNOX_" + "API_URL"] == base
