"""Accessibility checks with axe-core in the real browser.

axe-core comes from the npm registry (``package.json`` at the top of the repository; ``make
test`` installs it into ``node_modules/``). Its rules run inside the page the test has open, so
what is checked is what a screen-reader user would meet, after styles and scripts ran.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[dict]:
    """The WCAG 2.1 A and AA violations axe-core finds on the page, each with its rule and nodes.

    The script is evaluated through the browser's debugging protocol, which the page's content
    security policy does not govern, so pages are checked with their real policy in force.
    A missing axe-core fails under CI (``CI=true``) and skips elsewhere.
    """
    if not AXE.exists():
        message = f"axe-core not found at {AXE}: run `npm ci` at the top of the repository"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA)
    return [
        {"rule": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]
