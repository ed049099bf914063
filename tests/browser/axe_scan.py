"""axe-core (axe-playwright-python, the engine shipped inside the package): the violations a
page has as it is now, for the accessibility test and the journey's card states."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

BLOCKING = ("serious", "critical")
#: Rules issue 17 names, whatever axe's impact ("no empty table headers" is minor to axe).
NAMED = ("empty-table-header",)


def violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations axe finds on the page as it is now, and any
    violation of the rules the issue names."""
    results = Axe().run(page)
    return [v for v in results.response["violations"]
            if v.get("impact") in BLOCKING or v.get("id") in NAMED]


def describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in found
    )
