"""The language switch (sv/en), kept in the session."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from .conftest import submit, text, unchanged_db

Login = Callable[[str], FlaskClient]


def test_default_is_english_and_swedish_is_one_click_away(as_user: Login) -> None:
    client = as_user("owner@acme.test")
    assert ">Customers<" in text(client.get("/customers/"))
    response = submit(client, "/customers/", "/language/sv", data={"next": "/customers/"})
    assert response.status_code == 303
    assert response.location.endswith("/customers/")
    body = text(client.get("/customers/"))
    assert ">Kunder<" in body and ">Fakturor<" in body and ">Utbetalningar<" in body
    assert '<html lang="sv">' in body
    submit(client, "/customers/", "/language/en")
    assert ">Customers<" in text(client.get("/customers/"))


def test_swedish_money_and_messages(as_user: Login) -> None:
    client = as_user("owner@acme.test")
    submit(client, "/invoices/", "/language/sv")
    body = text(client.get("/invoices/"))
    assert "\u00a0kr<" in body  # 1 234,50 kr
    response = submit(client, "/customers/new", data={"name": "", "country_code": "SE",
                                                      "vat_type": "SEVAT"})
    assert "Namn måste anges." in text(response)


def test_language_works_before_login(client: FlaskClient) -> None:
    submit(client, "/login", "/language/sv")
    assert "Logga in" in text(client.get("/login"))


def test_unknown_language_is_404(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    with unchanged_db(app):
        assert submit(client, "/customers/", "/language/de").status_code == 404
    assert "Log out" in text(client.get("/customers/"))  # still English


def test_language_switch_needs_csrf_and_post(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    with unchanged_db(app):
        assert client.post("/language/sv").status_code == 400
        assert client.get("/language/sv").status_code == 405
    assert "Log out" in text(client.get("/customers/"))  # still English


def test_an_offsite_next_is_ignored(as_user: Login) -> None:
    client = as_user("owner@acme.test")
    response = submit(client, "/customers/", "/language/sv",
                      data={"next": "//evil.example/x"})
    assert "evil" not in response.location


def test_the_plugin_pages_follow_the_host_language(as_user: Login) -> None:
    client = as_user("owner@acme.test")
    submit(client, "/customers/", "/language/sv")
    page = client.get("/integrations/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Integrationer" in page and "Anslut Fortnox" in page
    from example_host.fortnox_setup import fortnox

    with client.application.test_request_context():
        from flask import session

        session["lang"] = "sv"
        assert fortnox.host_mapping_keys["performer_costs"].text() == "Kostnader för utförare"
    submit(client, "/customers/", "/language/en")
    page = client.get("/integrations/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert "Connect Fortnox" in page


def _host_strings() -> set[str]:
    """Every literal the host translates: gettext(...) / _(...) in its code and templates,
    and the InputError templates that views pass to gettext."""
    import ast
    import re
    from pathlib import Path

    import example_host

    root = Path(example_host.__file__).parent
    found: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in {"gettext", "_", "InputError"} and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value)
    in_template = re.compile(r"""\b_\(\s*(["'])(.+?)\1\s*[,)]""")
    for path in root.rglob("*.html"):
        found.update(m.group(2) for m in in_template.finditer(path.read_text(encoding="utf-8")))
    return found


def test_every_host_string_has_a_swedish_translation() -> None:
    from example_host.i18n import SV

    strings = _host_strings()
    assert "Invoice saved." in strings and "Edit invoice" in strings  # the scan finds them
    assert sorted(s for s in strings if s not in SV) == []
