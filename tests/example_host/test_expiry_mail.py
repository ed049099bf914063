"""The host listens to the plugin's expiry signal and tells the company's owners."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from aourly_fortnox.signals import connection_expired


def test_owners_are_told_when_the_connection_expires(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with app.app_context(), caplog.at_level(logging.WARNING, logger="example_host"):
        connection_expired.send(app, company_id="acme", reason="invalid_grant")
    mails = [r.getMessage() for r in caplog.records if r.getMessage().startswith("E-mail to")]
    assert mails == [
        "E-mail to owner@acme.test: Your Fortnox connection has expired (invalid_grant). "
        "Open Integrations and click Reconnect; nothing is lost meanwhile."
    ]
