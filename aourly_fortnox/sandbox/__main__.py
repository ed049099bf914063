"""``python -m aourly_fortnox.sandbox``: run the local Fortnox (docs/sandbox.md).

Prints the OAuth client it accepts (a sandbox: the secret is printed on purpose) and its URL,
then serves on 127.0.0.1 until interrupted (Ctrl-C or SIGTERM). ``--quiet`` (not part of the
contract) drops the per-request log lines.
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from .app import create_app
from .server import make_sandbox_server
from .settings import Settings, SettingsError, format_redirect_rule


def build_parser() -> argparse.ArgumentParser:
    """The command line: the OAuth client to accept, token lifetimes, limits a run may tighten."""
    parser = argparse.ArgumentParser(
        prog="python -m aourly_fortnox.sandbox",
        description="A local Fortnox: OAuth consent, /3/ REST API, admin API at /_admin/.",
    )
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--client-id", default="demo-client")
    parser.add_argument("--client-secret", default="demo-secret")
    parser.add_argument(
        "--redirect-uri",
        dest="redirect_uris",
        action="extend",
        nargs="+",
        metavar="URI",
        help="accepted redirect URIs (exact strings); default: any loopback URI",
    )
    parser.add_argument("--db", metavar="FILE", help="SQLite file; default: in memory")
    parser.add_argument("--access-ttl", type=float, default=3600.0, metavar="SECONDS")
    parser.add_argument("--refresh-ttl", type=float, default=3888000.0, metavar="SECONDS")
    parser.add_argument("--code-ttl", type=float, default=600.0, metavar="SECONDS")
    parser.add_argument("--rate-limit", default="25/5", metavar="N/SECONDS")
    parser.add_argument(
        "--retry-after",
        type=int,
        metavar="SECONDS",
        help="send Retry-After with 429s (default: no header, like Fortnox)",
    )
    parser.add_argument(
        "--refresh-reuse-revokes",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="a refresh token used twice revokes its whole chain (default: on); "
        "--no-refresh-reuse-revokes only refuses the second use",
    )
    parser.add_argument(
        "--extra-accounts",
        type=int,
        default=0,
        metavar="N",
        help="add N accounts to each chart (pagination tests)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the generated data")
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")
    return parser


def banner(url: str, settings: Settings, companies: list[dict[str, object]]) -> str:
    """What to paste into the plugin's settings (client, URLs), secret included, shown at start."""
    count, window = settings.rate_limit
    data = f"SQLite file {settings.db}" if settings.db else "in memory (gone on exit)"
    names = ", ".join(f"{c['DatabaseNumber']} {c['CompanyName']}" for c in companies)
    reuse = (
        "a second use revokes the whole chain"
        if settings.refresh_reuse_revokes
        else "a second use is refused (the chain lives)"
    )
    return "\n".join(
        [
            f"Fortnox sandbox listening on {url}",
            f"  OAuth client:  client_id={settings.client_id} "
            f"client_secret={settings.client_secret}",
            f"  OAuth:         {url}/oauth-v1/auth, /token and /revoke",
            f"  REST API:      {url}/3/... (clients add /3/ themselves)",
            f"  Redirect URIs: {format_redirect_rule(settings.redirect_uris)}",
            f"  Companies:     {names}",
            f"  Rate limit:    {count}/{window:g} s per client and company",
            f"  Refresh reuse: {reuse}",
            f"  Data:          {data}",
            f"  Admin API:     {url}/_admin/   Read-only view: {url}/",
            "  For aourly_fortnox (Flask config or environment), paste:",
            f"    AOURLY_FORTNOX_API_URL={url}",
            f"    AOURLY_FORTNOX_AUTH_URL={url}/oauth-v1",
            f"    AOURLY_FORTNOX_CLIENT_ID={settings.client_id}",
            f"    AOURLY_FORTNOX_CLIENT_SECRET={settings.client_secret}",
        ]
    )


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM; exit status 2 for bad settings or a port already taken."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_kwargs(
            client_id=args.client_id, client_secret=args.client_secret,
            redirect_uris=args.redirect_uris or (), db=args.db, access_ttl=args.access_ttl,
            refresh_ttl=args.refresh_ttl, code_ttl=args.code_ttl, rate_limit=args.rate_limit,
            retry_after=args.retry_after, refresh_reuse_revokes=args.refresh_reuse_revokes,
            extra_accounts=args.extra_accounts, seed=args.seed, quiet=args.quiet,
        )  # fmt: skip
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)
    store = app.extensions["fortnox_sandbox"].store
    try:
        server = make_sandbox_server(app, args.port, quiet=settings.quiet)
    except (OSError, SystemExit) as exc:  # werkzeug exits itself on "address in use"
        store.close()
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 2
    url = f"http://127.0.0.1:{server.server_port}"
    print(banner(url, settings, store.companies()), flush=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
