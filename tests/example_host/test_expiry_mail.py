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
        "E-mail to owner@acme.test: Your Fortnox connection has expired. invalid_grant. "
        "Open Integrations and click Reconnect; nothing is lost meanwhile."
    ]


def test_owners_are_told_of_an_item_that_newly_needs_them(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    from aourly_fortnox.signals import sync_failed

    with app.app_context(), caplog.at_level(logging.WARNING, logger="example_host"):
        sync_failed.send(app, company_id="acme", record_id=1, object_type="invoice",
                         object_id="7", label="2025-0007 · Bergström Bygg AB",
                         code="ACCOUNT_UNMAPPED", params={})
    mails = [r.getMessage() for r in caplog.records if r.getMessage().startswith("E-mail to")]
    assert mails == [
        "E-mail to owner@acme.test: An invoice (2025-0007 · Bergström Bygg AB) could not be "
        "sent to Fortnox and needs you. Open Integrations, then the sync log, for the reason "
        "and the fix."
    ]
