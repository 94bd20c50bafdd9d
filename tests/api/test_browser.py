"""The docs page as a console, driven in Debian's Chromium: authorise, pick an example, execute."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.helpers import KEYS
from tests.servers import running

pytestmark = pytest.mark.server
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OPERATION = "#operations-assessments-create_assessment_v1_assessments_post"


def test_knife_crime_example_from_the_docs_page_is_refused_citing_2_8_3(tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Chromium is installed by the test command (Debian package 'chromium')"
    with running(f"sqlite:///{tmp_path / 'browser.db'}") as (base, _server), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2200})
            external = []
            page.on(
                "request",
                lambda request: external.append(request.url) if not request.url.startswith((base, "data:", "blob:")) else None,
            )
            page.goto(f"{base}/docs")
            page.click("button.authorize")
            page.fill("#auth-bearer-value", KEYS["dispatcher"])
            page.locator(".auth-container").first.locator("button.modal-btn.authorize").click()
            page.locator("button.btn-done").first.click()
            page.click(f"{OPERATION} .opblock-summary")
            page.click(f"{OPERATION} button.try-out__btn")
            page.locator(f"{OPERATION} .examples-select select").first.select_option(label="Knife crime, refused (WMP 2.8.3)")
            page.click(f"{OPERATION} button.execute")
            body = page.locator(f"{OPERATION} .live-responses-table .response-col_description pre").first
            body.wait_for(timeout=20_000)
            answer = json.loads(body.inner_text())
            body.scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "docs-knife-crime.png"), full_page=False)
        finally:
            browser.close()
    assert answer["decision"] == "do_not_deploy"
    assert answer["reasons"][0]["citation"]["label"] == "WMP 2.8.3"
    assert (tmp_path / "docs-knife-crime.png").stat().st_size > 10_000
    assert external == []
