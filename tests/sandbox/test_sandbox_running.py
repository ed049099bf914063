"""Running the sandbox: the CLI, --db persistence, concurrent clients, the read-only view."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from aourly_fortnox.sandbox.__main__ import banner, build_parser
from aourly_fortnox.sandbox.settings import Settings
from aourly_fortnox.sandbox.testing import RunningSandbox, running_sandbox

from .conftest import ALL_SCOPES, DB, REDIRECT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_cli_prints_the_client_and_serves(tmp_path: Path) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "aourly_fortnox.sandbox",
        "--port",
        str(port),
        "--client-id",
        "cli-client",
        "--client-secret",
        "cli-secret",
        "--quiet",
        "--rate-limit",
        "10/1",
        "--db",
        str(tmp_path / "cli.db"),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        try:
            assert process.stdout is not None
            banner = [process.stdout.readline() for _ in range(2)]
            assert f"http://127.0.0.1:{port}" in banner[0]
            assert "client_id=cli-client" in banner[1] and "client_secret=cli-secret" in banner[1]
            page = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
            assert page.status_code == 200 and "Demo Bygg AB" in page.text
            companies = requests.get(f"http://127.0.0.1:{port}/_admin/companies", timeout=10)
            assert [c["DatabaseNumber"] for c in companies.json()] == [1001, 1002]
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert process.returncode == 0
    assert (tmp_path / "cli.db").exists()


def test_cli_refuses_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "aourly_fortnox.sandbox", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2 and "cannot listen" in done.stderr


def test_db_file_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "fortnox.db"
    with running_sandbox(db=path) as box:
        tokens = box.tokens(ALL_SCOPES, REDIRECT)
        created = box.api(
            "POST",
            "customers",
            tokens["access_token"],
            json={"Customer": {"CustomerNumber": "AOU1", "Name": "Kvar AB"}},
        )
        assert created.status_code == 201
        box.admin("DELETE", f"/companies/{DB}/customers/2")
    with running_sandbox(db=path) as box:
        # Data, reserved numbers and tokens are all still there; nothing was seeded twice.
        assert box.api("GET", "customers/AOU1", tokens["access_token"]).status_code == 200
        again = box.api(
            "POST",
            "customers",
            tokens["access_token"],
            json={"Customer": {"CustomerNumber": "2", "Name": "Ny"}},
        )
        assert again.status_code == 400
        assert len(box.admin("GET", "/companies")) == 2
        assert len(box.admin("GET", f"/companies/{DB}/financialyears")) == 2
        assert box.refresh(tokens["refresh_token"])["access_token"]


def test_eight_concurrent_clients(sandbox: RunningSandbox) -> None:
    tokens = [
        sandbox.tokens(ALL_SCOPES, REDIRECT, database_number=1001 + i % 2)["access_token"]
        for i in range(8)
    ]

    def work(index: int) -> list[str]:
        numbers = []
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {tokens[index]}"
            for _ in range(10):
                answer = http.post(
                    f"{sandbox.url}/3/customers",
                    timeout=30,
                    json={"Customer": {"Name": f"Kund {index}"}},
                )
                assert answer.status_code == 201, answer.text
                numbers.append(answer.json()["Customer"]["CustomerNumber"])
                assert http.get(f"{sandbox.url}/3/accounts", timeout=30).status_code == 200
        return numbers

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    for db in (1001, 1002):
        mine = [n for i, numbers in enumerate(results) if 1001 + i % 2 == db for n in numbers]
        assert len(mine) == len(set(mine)) == 40  # no number handed out twice


def test_read_only_view_shows_what_arrived(sandbox: RunningSandbox, token: str) -> None:
    sandbox.api(
        "POST",
        "customers",
        token,
        json={"Customer": {"CustomerNumber": "AOU99", "Name": "Synkad Kund AB"}},
    )
    page = requests.get(sandbox.url + "/", timeout=10)
    assert page.status_code == 200
    for text in (
        "Demo Bygg AB",
        "Test Konsult AB",
        "Synkad Kund AB",
        "AOU99",
        "Insättning av aktiekapital",
    ):
        assert text in page.text


def test_start_and_stop_are_quick() -> None:
    started = time.monotonic()
    with running_sandbox() as box:
        assert requests.get(box.url + "/_admin/companies", timeout=10).status_code == 200
    assert time.monotonic() - started < 3


def test_refresh_reuse_setting_from_the_command_line() -> None:
    parser = build_parser()
    default = parser.parse_args([])
    assert default.refresh_reuse_revokes is True
    off = parser.parse_args(["--no-refresh-reuse-revokes"])
    assert off.refresh_reuse_revokes is False
    settings = Settings.from_kwargs(refresh_reuse_revokes=off.refresh_reuse_revokes)
    assert "a second use is refused (the chain lives)" in banner("http://x", settings, [])
    assert "revokes the whole chain" in banner("http://x", Settings(), [])


def test_db_file_of_an_older_sandbox_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:  # the consent table before /revoke could close one
        old.execute(
            "CREATE TABLE consent (id TEXT PRIMARY KEY, client_id TEXT NOT NULL,"
            " db INTEGER NOT NULL, scope TEXT NOT NULL, service INTEGER NOT NULL,"
            " created REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)"
        )
    old.close()
    with running_sandbox(db=path) as box:
        tokens = box.tokens(ALL_SCOPES, REDIRECT)
        requests.post(
            f"{box.auth_url}/revoke",
            auth=(box.client_id, box.client_secret),
            data={"token": tokens["refresh_token"]},
            timeout=10,
        )
        assert [t["state"] for t in box.refresh_tokens()] == ["closed"]
