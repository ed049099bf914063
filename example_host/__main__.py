"""``python -m example_host [--host 127.0.0.1] [--port 5000] [--sandbox-port 8765]``.

The whole demo in one command: the web app (waitress, threaded), the Fortnox sandbox as a
child process when no real Fortnox is configured, and the plugin's worker in a thread when
there is no Redis. Tests never come through here: they call ``create_app`` directly.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

log = logging.getLogger("example_host")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m example_host",
        description="Run the example Aourly host with the Fortnox integration.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="web port (default 5000)")
    parser.add_argument(
        "--sandbox-port", type=int, default=None,
        help="the demo Fortnox sandbox's port (default: $AOURLY_SANDBOX_PORT or 8765)",
    )
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    return parser.parse_args(argv)


def _quiet_rq(record: logging.LogRecord) -> bool:
    return not (record.name.startswith("rq.") and record.levelno < logging.WARNING)


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM's default kills us without running atexit: turn it into a normal exit so the
    # sandbox child is stopped.
    raise SystemExit(128 + signum)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The embedded worker runs an RQ burst round every half second and RQ logs each round at
    # INFO, resetting its logger's level itself, so filter at our handler instead.
    for handler in logging.getLogger().handlers:
        handler.addFilter(_quiet_rq)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    if args.sandbox_port is not None:
        # The environment, not only our config: a worker started from this shell agrees.
        os.environ["AOURLY_SANDBOX_PORT"] = str(args.sandbox_port)

    if not _port_free(args.host, args.port):
        print(f"error: port {args.port} on {args.host} is already in use; choose another "
              "with --port.", file=sys.stderr)
        return 2

    from . import create_app
    from .fortnox_setup import uses_embedded_queue
    from .sandbox_process import SandboxError, start_or_reuse

    if (args.host not in ("127.0.0.1", "localhost", "0.0.0.0", "::", "")
            and not os.environ.get("TRUSTED_HOSTS")
            and not os.environ.get("AOURLY_FORTNOX_REDIRECT_URI")):
        # The demo believes only the names it is reached by (the OAuth callback URL is built
        # from the Host header only for trusted hosts).
        os.environ["TRUSTED_HOSTS"] = f"127.0.0.1,localhost,{args.host}"
    app = create_app()
    # A demo database from an older checkout gets the plugin's newer migrations (the plugin's
    # own branch only; `flask fortnox db ...` stays the tool for anything else).
    from aourly_fortnox import upgrade_database

    upgrade_database(app)
    sandbox_url = None
    if app.config["EXAMPLE_HOST_USES_SANDBOX"]:
        instance = Path(app.instance_path)
        try:
            sandbox = start_or_reuse(
                port=int(app.config["AOURLY_SANDBOX_PORT"]),
                db_path=instance / "sandbox.db",
                client_id=app.config["AOURLY_FORTNOX_CLIENT_ID"],
                client_secret=app.config["AOURLY_FORTNOX_CLIENT_SECRET"],
                log_path=instance / "sandbox.log",
            )
        except SandboxError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        sandbox_url = sandbox.url

    queue_note = "Redis at " + str(app.config.get("AOURLY_FORTNOX_REDIS_URL"))
    if uses_embedded_queue(app):
        try:
            from aourly_fortnox import start_embedded_worker
        except ImportError:
            log.error("aourly_fortnox.start_embedded_worker is missing: Fortnox jobs "
                      "are queued but nothing runs them in this demo.")
            queue_note = "embedded (no worker available!)"
        else:
            start_embedded_worker(app)
            queue_note = "embedded queue (demo only), worker in this process"
    else:
        queue_note += " (start `flask --app example_host fortnox worker` to run jobs)"

    _banner(args.host, args.port, sandbox_url, queue_note)

    from waitress import serve

    try:
        serve(app, host=args.host, port=args.port, threads=args.threads)
    except KeyboardInterrupt:
        pass
    return 0


def _banner(host: str, port: int, sandbox_url: str | None, queue_note: str) -> None:
    from .seed import DEMO_PASSWORD, USERS

    shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    fortnox = f"{sandbox_url} (demo sandbox)" if sandbox_url else "as configured"
    lines = [
        "",
        f"  Aourly example host:  http://{shown_host}:{port}/",
        f"  Fortnox:              {fortnox}",
        f"  Queue:                {queue_note}",
        f"  Demo logins (password '{DEMO_PASSWORD}'):",
    ]
    lines += [f"    {email:<26} {', '.join(f'{role} of {c}' for c, role in roles.items())}"
              for email, _, roles in USERS]
    lines.append("")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
