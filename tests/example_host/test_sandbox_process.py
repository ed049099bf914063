"""The sandbox child process: reuse a sandbox, refuse a foreign port, start and stop a child."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from example_host import sandbox_process
from example_host.sandbox_process import SandboxError, start_or_reuse

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(body: bytes, content_type: str) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sandbox_like_port() -> Iterator[int]:
    yield from serve(b'[{"DatabaseNumber": 1}]', "application/json")


@pytest.fixture
def other_service_port() -> Iterator[int]:
    yield from serve(b"<html>not a sandbox</html>", "text/html")


def start(port: int, tmp_path: Path) -> sandbox_process.Sandbox:
    return start_or_reuse(port, tmp_path / "sandbox.db", "demo-client", "demo-secret",
                          tmp_path / "sandbox.log", timeout=20)


def test_an_answering_sandbox_is_reused(sandbox_like_port: int, tmp_path: Path) -> None:
    sandbox = start(sandbox_like_port, tmp_path)
    assert not sandbox.started_here
    sandbox.stop()  # nothing to stop: not ours


def test_a_port_held_by_something_else_is_a_clear_error(
    other_service_port: int, tmp_path: Path
) -> None:
    with pytest.raises(SandboxError, match="not the Fortnox sandbox"):
        start(other_service_port, tmp_path)


@pytest.fixture
def fake_sandbox_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_process, "SANDBOX_MODULE", "tests.example_host.fake_sandbox")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.syspath_prepend(str(ROOT))


@pytest.mark.usefixtures("fake_sandbox_module")
def test_a_child_is_started_waited_for_and_stopped(tmp_path: Path) -> None:
    port = free_port()
    sandbox = start(port, tmp_path)
    try:
        assert sandbox.started_here and sandbox.process is not None
        assert sandbox_process.is_sandbox(port)
        args = json.loads((tmp_path / "sandbox.db").read_text())
        assert args == {"port": port, "db": str(tmp_path / "sandbox.db"),
                        "client_id": "demo-client", "client_secret": "demo-secret"}
    finally:
        sandbox.stop()
    assert sandbox.process.returncode is not None  # no orphan
    assert not sandbox_process.port_is_open(port)


@pytest.mark.usefixtures("fake_sandbox_module")
def test_a_child_that_dies_at_start_is_reported_with_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SANDBOX_CRASH", "1")
    with pytest.raises(SandboxError, match="crashing as asked"):
        start(free_port(), tmp_path)


def test_a_missing_sandbox_module_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_process, "SANDBOX_MODULE", "example_host.no_such_sandbox")
    with pytest.raises(SandboxError, match="not installed"):
        start(free_port(), tmp_path)


def test_main_refuses_a_busy_web_port(capsys: pytest.CaptureFixture[str]) -> None:
    from example_host.__main__ import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--port", str(port)]) == 2
    assert "already in use" in capsys.readouterr().err


def test_main_refuses_a_sandbox_port_held_by_something_else(
    other_service_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import example_host
    from example_host.__main__ import main

    from .conftest import close_app

    created = []

    def create_app() -> object:
        app = real_create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
        created.append(app)
        return app

    real_create_app = example_host.create_app
    monkeypatch.setattr(example_host, "create_app", create_app)
    try:
        code = main(["--port", str(free_port()), "--sandbox-port", str(other_service_port)])
    finally:
        for app in created:
            close_app(app)
    assert code == 2
    assert "not the Fortnox sandbox" in capsys.readouterr().err


def test_the_sandbox_log_rotates_and_stays_capped(tmp_path: Path) -> None:
    """The real sandbox logs a line per request: a long-running demo must not fill the disk."""
    import urllib.request

    port = free_port()
    sandbox = start_or_reuse(port, tmp_path / "sandbox.db", "demo-client", "demo-secret",
                             tmp_path / "sandbox.log", timeout=20, log_max_bytes=4000,
                             log_backups=2)
    try:
        for _ in range(300):  # ~100 bytes of access log each: ~30 kB in all
            with urllib.request.urlopen(f"{sandbox.url}/_admin/stats", timeout=5) as answer:
                answer.read()
    finally:
        sandbox.stop()
    logs = sorted(p.name for p in tmp_path.glob("sandbox.log*"))
    assert logs == ["sandbox.log", "sandbox.log.1", "sandbox.log.2"]  # two old files kept
    for name in logs:
        assert (tmp_path / name).stat().st_size <= 4000
    assert "GET /_admin/stats" in (tmp_path / "sandbox.log.1").read_text()
    assert "Fortnox sandbox listening on" not in (tmp_path / "sandbox.log").read_text()
