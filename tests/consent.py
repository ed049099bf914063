"""Walk a consent page like a person: find the form, keep its choices, press a button.

Shared by the plugin's flow tests; parses any HTML form generically (no sandbox internals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, text
    radios: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: list[str] | None = None
        self._select: str | None = None
        self._select_first: bool = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        if not self.forms:
            return
        form = self.forms[-1]
        if tag == "input":
            kind = a.get("type", "text").lower()
            name = a.get("name")
            if kind == "radio" and name:
                form.radios.setdefault(name, []).append((a.get("value", ""), "checked" in a))
            elif kind == "checkbox" and name:
                if "checked" in a:
                    form.fields[name] = a.get("value", "on")
            elif kind == "submit":
                form.buttons.append((a.get("name", ""), a.get("value", ""), a.get("value", "")))
            elif name:
                form.fields[name] = a.get("value", "")
        elif tag == "button":
            self._button = [a.get("name", ""), a.get("value", ""), ""]
        elif tag == "select":
            self._select = a.get("name")
            self._select_first = True
        elif tag == "option" and self._select:
            if self._select_first or "selected" in a:
                form.fields[self._select] = a.get("value", "")
                self._select_first = False

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            name, value, text = self._button
            self.forms[-1].buttons.append((name, value, text.strip()))
            self._button = None
        elif tag == "select":
            self._select = None


def press(
    session: requests.Session, page_url: str, html: str, button_text: str,
    choose: dict[str, str] | None = None,
) -> requests.Response:
    """Submit the form holding a button labelled ``button_text``; no redirects followed."""
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        for name, value, text in form.buttons:
            if button_text.lower() in (text or value).lower():
                data = dict(form.fields)
                for radio, options in form.radios.items():
                    chosen = next((v for v, checked in options if checked), options[0][0])
                    data[radio] = chosen
                data.update(choose or {})
                if name:
                    data[name] = value
                url = urljoin(page_url, form.action or page_url)
                if form.method == "post":
                    return session.post(url, data=data, allow_redirects=False, timeout=10)
                return session.get(url, params=data, allow_redirects=False, timeout=10)
    raise AssertionError(f"no button {button_text!r} on the page:\n{html[:2000]}")
