"""Issue 17, as the example host's users meet it: the 403 page in the host's layout, and the
owners' expiry e-mail worded as sentences."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.signals import connection_expired

from .conftest import submit, text, unchanged_db

# The reasons the plugin sends with its expiry signal (aourly_fortnox/connection/token_store.py).
REVOKED = ("Fortnox no longer accepts the authorization of %(product)s (it was revoked, used "
           "elsewhere or ran out).")
RAN_OUT = "The Fortnox authorization ran out after 45 days."


@pytest.mark.parametrize("email", ["coordinator@acme.test", "performer@acme.test"])
def test_a_refused_member_sees_who_can_manage_integrations_in_the_hosts_layout(
    app: Flask, as_user: Callable[[str], FlaskClient], email: str
) -> None:
    client = as_user(email)
    with unchanged_db(app):
        for path in ("/integrations/", "/integrations/fortnox/mapping",
                     "/integrations/fortnox/log"):
            response = client.get(path)
            body = html.unescape(text(response))
            assert response.status_code == 403
            assert "Only the company's owners can manage integrations." in body
            assert 'data-testid="tenant-menu"' in body  # the host's layout around it
            assert 'data-testid="error-403"' not in body  # not the bare "403 / Back" panel


def test_the_403_page_is_swedish_for_a_swedish_member(
    app: Flask, as_user: Callable[[str], FlaskClient]
) -> None:
    client = as_user("coordinator@acme.test")
    submit(client, "/payouts/", "/language/sv")
    body = html.unescape(text(client.get("/integrations/")))
    assert "Endast företagets ägare kan hantera integrationer." in body


@pytest.mark.parametrize("reason", [REVOKED, RAN_OUT])
def test_the_expiry_email_has_no_doubled_punctuation_and_names_the_product(
    app: Flask, caplog: pytest.LogCaptureFixture, reason: str
) -> None:
    with app.app_context(), caplog.at_level(logging.WARNING, logger="example_host"):
        connection_expired.send(app, company_id="acme", reason=reason)
    mails = [r.getMessage() for r in caplog.records if r.getMessage().startswith("E-mail to")]
    assert len(mails) == 1
    mail = mails[0]
    assert ").)." not in mail and ".)" not in mail and ".." not in mail
    assert "%(product)s" not in mail
    assert mail.startswith("E-mail to owner@acme.test: Your Fortnox connection has expired. ")
    assert mail.endswith(" Open Integrations and click Reconnect; nothing is lost meanwhile.")
