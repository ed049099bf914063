"""Swedish owners get the plugin in Swedish; the catalogue covers every string."""

from __future__ import annotations

from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from aourly_fortnox.i18n import translations

from .charts import install_chart
from .conftest import login
from .test_access import csrf
from .test_mapping import FULL


def test_the_swedish_catalogue_translates_every_string_in_the_code() -> None:
    """Extracted fresh from the code, so a new English string without Swedish fails here."""
    from importlib.resources import files
    from pathlib import Path

    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    package = Path(str(files("aourly_fortnox")))
    keywords = {**DEFAULT_KEYWORDS, "fx_": None, "N_": None, "N_plural": (1, 2),
                "fx_ngettext": (1, 2)}
    method_map = [("sandbox/**", "ignore"), ("**.py", "python"),
                  ("web/templates/**.html", "jinja2")]
    found = {
        message if isinstance(message, str) else message[0]
        for _, _, message, *_ in extract_from_dir(str(package), method_map, keywords=keywords)
    }
    with (package / "translations/sv/LC_MESSAGES/aourly_fortnox.po").open("rb") as handle:
        swedish = read_po(handle, locale="sv")
    missing = sorted(m for m in found if not (swedish.get(m) and swedish[m].string))
    assert missing == [], "run scripts/update-translations and translate these"
    assert len(found) > 150
    assert translations("sv").gettext("Connect Fortnox") == "Anslut Fortnox"


def test_accept_language_picks_swedish_when_the_host_says_nothing(client: FlaskClient) -> None:
    login(client)
    page = client.get("/integrations/", headers={"Accept-Language": "sv-SE,sv;q=0.9"})
    text = page.get_data(as_text=True)
    assert "Anslut Fortnox" in text and "Inte ansluten" in text
    english = client.get("/integrations/", headers={"Accept-Language": "en-GB"})
    assert "Connect Fortnox" in english.get_data(as_text=True)


def test_the_host_hook_wins_and_messages_follow(app: Flask, client: FlaskClient) -> None:
    ext = app.extensions["aourly_fortnox"].ext
    ext.locale_loader(lambda: "sv")
    try:
        with app.app_context():
            install_chart(inactive={2: {3011}})
        login(client)
        response = client.post("/integrations/fortnox/mapping",
                               data={**FULL, "sales_25": "3011", "csrf_token": csrf(client)},
                               headers={"Accept-Language": "en"})
        text = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "Konto 3011 (Försäljning tjänster 25 %) är inaktivt under" in text
        assert "Inte sparat: 1 fält behöver ett annat konto." in text
        client.post("/integrations/fortnox/mapping", data={**FULL, "sales_eu": "",
                                                            "csrf_token": csrf(client)})
        page = client.get("/integrations/fortnox/mapping").get_data(as_text=True)
        assert "Kopplingen är ofullständig: 1 konto saknas" in page  # the card
        assert "Kontokopplingen är sparad." in page  # the notification
    finally:
        ext._locale_loader = None


def test_the_host_locale_hook_is_asked_once_per_page_and_each_request_asks_again(
    app: Flask, client: FlaskClient
) -> None:
    """A host's hook may read the user's language from its database: asked once per page
    (the Integrations page translates dozens of strings), and again on the next request, so an
    owner who switches language sees the next page in the new one."""
    ext = app.extensions["aourly_fortnox"].ext
    language = ["sv"]
    asked: list[str] = []
    ext.locale_loader(lambda: asked.append(language[0]) or language[0])
    try:
        login(client)
        swedish = client.get("/integrations/").get_data(as_text=True)
        assert "Anslut Fortnox" in swedish and asked == ["sv"]
        language[0] = "en"
        english = client.get("/integrations/").get_data(as_text=True)
        assert "Connect Fortnox" in english and asked == ["sv", "en"]
    finally:
        ext._locale_loader = None
