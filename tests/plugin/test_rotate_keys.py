"""``flask fortnox rotate-keys`` when the database is not quiet: a token refreshed while it
runs, and tokens no key decrypts (issue 18's audit)."""

from __future__ import annotations

import threading
import time
from typing import Any

from cryptography.fernet import Fernet

from aourly_fortnox.connection import clients
from aourly_fortnox.connection.crypto import TokenCipher
from aourly_fortnox.connection.token_store import DatabaseTokenStore
from aourly_fortnox.models import Connection, ConnectionStatus
from aourly_fortnox.state import state

from ..dbstate import database_dump
from . import test_cli
from .test_cli import NEW_KEY, OLD_KEY, host, pair, raw_tokens

# test_cli's fixtures: a SQLite file, and two companies' tokens (and a waiting switch) under
# OLD_KEY.
database = test_cli.database
old_tokens = test_cli.old_tokens


def test_rotate_keys_waits_for_a_refresh_and_keeps_the_refreshed_token(
    database: str, old_tokens: dict[tuple[str, str], str]
) -> None:
    app = host(database, f"{NEW_KEY},{OLD_KEY}")
    holding, release = threading.Event(), threading.Event()

    def refresh_in_progress() -> None:
        """A worker refreshing Acme's token: holds the lock, stores the new pair, lets go."""
        with app.app_context(), clients._lock_factory().lock("refresh:company:acme"):
            holding.set()
            release.wait(10)
            assert DatabaseTokenStore("acme").replace("refresh-acme", pair("acme-2"))

    worker = threading.Thread(target=refresh_in_progress)
    worker.start()
    assert holding.wait(10)
    result: dict[str, Any] = {}
    rotation = threading.Thread(target=lambda: result.update(
        out=app.test_cli_runner().invoke(args=["fortnox", "rotate-keys"])))
    rotation.start()
    time.sleep(1.0)
    assert rotation.is_alive(), "rotate-keys did not wait for the company's refresh lock"
    release.set()
    worker.join(10)
    rotation.join(20)
    assert result["out"].exit_code == 0, result["out"].output
    new_alone = TokenCipher(NEW_KEY)
    stored = {place: new_alone.decrypt(value) for place, value in raw_tokens(app).items()}
    assert stored[("acme", "refresh_token_enc")] == "refresh-acme-2"  # the refresh survived
    assert stored[("acme", "access_token_enc")] == "access-acme-2"
    assert stored[("globex", "refresh_token_enc")] == "refresh-globex"


def test_undecryptable_tokens_stop_the_rotation_and_name_the_companies(
    database: str, old_tokens: dict[tuple[str, str], str]
) -> None:
    stranger = TokenCipher(Fernet.generate_key().decode())
    app = host(database, f"{NEW_KEY},{OLD_KEY}")
    with app.app_context():
        db = state(app).db
        for company in ("initech", "umbrella"):
            db.session.add(Connection(company_id=company, status=ConnectionStatus.CONNECTED,
                                      database_number=hash(company) % 10_000,
                                      access_token_enc=stranger.encrypt("a"),
                                      refresh_token_enc=stranger.encrypt("r")))
        db.session.commit()
        before = database_dump(db.engine)
    result = app.test_cli_runner().invoke(args=["fortnox", "rotate-keys"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)
    assert ("Nothing was re-encrypted: no key in AOURLY_FORTNOX_TOKEN_KEYS decrypts the stored "
            "tokens of 2 companies: initech, umbrella.") in result.output
    assert "acme" not in result.output and "globex" not in result.output
    with app.app_context():
        assert database_dump(state(app).db.engine) == before


def test_the_control_readable_tokens_rotate(
    database: str, old_tokens: dict[tuple[str, str], str]
) -> None:
    app = host(database, f"{NEW_KEY},{OLD_KEY}")
    result = app.test_cli_runner().invoke(args=["fortnox", "rotate-keys"])
    assert result.exit_code == 0 and "Re-encrypted 5 stored token(s)" in result.output
