"""The accessibility check itself: it must find what a screen-reader user would miss."""

import pytest
from axe import axe_violations
from playwright.sync_api import sync_playwright
from webserver import CHROMIUM_ARGS, chromium

pytestmark = pytest.mark.browser


def test_axe_reports_an_image_without_alt_text_and_a_page_without_language():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content("<html><head><title>t</title></head><body><main><img src='a.png'></main></body></html>")
        rules = {v["rule"] for v in axe_violations(page)}
        page.set_content(
            "<html lang='nl'><head><title>t</title></head><body><main>"
            "<img src='a.png' alt='Een grafiek van de respons per wijk'></main></body></html>"
        )
        assert axe_violations(page) == []
        browser.close()
    assert {"image-alt", "html-has-lang"} <= rules
