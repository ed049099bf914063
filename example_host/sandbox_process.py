"""The demo's Fortnox: the plugin's sandbox, run as a child process of ``python -m example_host``.

Fortnox is a separate service in production, so the demo keeps it separate too. Start-up
rules: something already answering on the port that *is* a sandbox (``GET
/_admin/companies`` answers a JSON list) is reused; anything else on the port is a clear
error; otherwise a child is started and waited for. The child never outlives us: it is
stopped at exit (atexit, and SIGTERM/SIGHUP turned into a normal exit by ``__main__``), and
on Linux the kernel kills it if we die without cleaning up (PR_SET_PDEATHSIG).

Its output (a line per request) goes through a pipe to a size-capped, rotating log under
``instance/`` (``sandbox.log``, ``sandbox.log.1`` ...), so a demo left running for weeks does
not fill the disk.
"""

from __future__ import annotations

import atexit
import ctypes
import importlib.util
import json
import logging
import logging.handlers
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("example_host.sandbox")

SANDBOX_MODULE = "aourly_fortnox.sandbox"
START_TIMEOUT = 30.0
#: The sandbox's log: at most this many bytes per file, and this many older files kept.
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 3


class SandboxError(RuntimeError):
    """The sandbox cannot be used (port taken by something else, or it did not start)."""


@dataclass
class Sandbox:
    port: int
    process: subprocess.Popen[bytes] | None  # None: an existing sandbox we reuse
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def started_here(self) -> bool:
        return self.process is not None

    def stop(self, timeout: float = 5.0) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
        log.info("Stopped the Fortnox sandbox (pid %d).", process.pid)


def sandbox_available() -> bool:
    """Is ``python -m aourly_fortnox.sandbox`` there to run?"""
    try:
        spec = importlib.util.find_spec(SANDBOX_MODULE)
        if spec is None:
            return False
        if spec.submodule_search_locations is None:  # a plain module runs as it is
            return True
        # A package runs through its __main__ (a half-written package has none yet).
        return importlib.util.find_spec(f"{SANDBOX_MODULE}.__main__") is not None
    except ModuleNotFoundError:
        return False


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def is_sandbox(port: int) -> bool:
    """Does what answers on ``port`` speak the sandbox's admin API?"""
    url = f"http://127.0.0.1:{port}/_admin/companies"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            if response.status != 200:
                return False
            return isinstance(json.loads(response.read().decode("utf-8")), list)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the parent dies, however it dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:  # not Linux/glibc: atexit and the signal handlers still cover us
        pass


def start_or_reuse(
    port: int,
    db_path: Path,
    client_id: str,
    client_secret: str,
    log_path: Path,
    timeout: float = START_TIMEOUT,
    log_max_bytes: int = LOG_MAX_BYTES,
    log_backups: int = LOG_BACKUPS,
) -> Sandbox:
    if port_is_open(port):
        if is_sandbox(port):
            log.info("A Fortnox sandbox already answers on port %d: reusing it.", port)
            return Sandbox(port=port, process=None)
        raise SandboxError(
            f"Port {port} is in use by something that is not the Fortnox sandbox. Stop it, "
            f"or choose another port with --sandbox-port (or AOURLY_SANDBOX_PORT)."
        )
    if not sandbox_available():
        raise SandboxError(
            f"{SANDBOX_MODULE} is not installed, so the demo's Fortnox cannot start. Set "
            "AOURLY_FORTNOX_API_URL and friends to use another Fortnox."
        )
    db_path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", SANDBOX_MODULE,
        "--port", str(port),
        "--db", str(db_path),
        "--client-id", client_id,
        "--client-secret", client_secret,
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        log_path, maxBytes=log_max_bytes, backupCount=log_backups, encoding="utf-8"
    )
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    except BaseException:
        handler.close()
        raise
    copier = threading.Thread(
        target=_copy_output, args=(process, handler), name="sandbox-log", daemon=True
    )
    copier.start()
    sandbox = Sandbox(port=port, process=process, log_path=log_path)
    atexit.register(sandbox.stop)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            copier.join(timeout=5)  # its last words reach the log before we quote them
            raise SandboxError(
                f"The Fortnox sandbox exited at start (code {process.returncode}). "
                f"Its output, from {log_path}:\n{_tail(log_path)}"
            )
        if is_sandbox(port):
            log.info("Started the Fortnox sandbox on %s (pid %d, log %s).",
                     sandbox.url, process.pid, log_path)
            return sandbox
        time.sleep(0.2)
    sandbox.stop()
    raise SandboxError(
        f"The Fortnox sandbox did not answer on port {port} within {timeout:.0f} s. "
        f"Its output, from {log_path}:\n{_tail(log_path)}"
    )


def _copy_output(process: subprocess.Popen[bytes], handler: logging.Handler) -> None:
    """Copy the child's output, line by line, into the rotating log until it exits."""
    assert process.stdout is not None
    try:
        for raw in process.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            handler.emit(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))
    finally:
        process.stdout.close()
        handler.close()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"
