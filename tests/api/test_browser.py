"""Pages driven in Debian's Chromium: the docs page as a console (authorise, pick an example, execute), and the
matrix page's profile form, which works with JavaScript off."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

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
OPERATION = "#operations-assessments-create_assessment"


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


def _cell(page: Page, call_type: str, task_index: int) -> str:
    """The decision (the cell's class) for a call type's row and a task's column."""
    row = page.locator("tbody tr").filter(has=page.locator("th code", has_text=call_type))
    return row.locator("td").nth(task_index).get_attribute("class") or ""


def test_the_matrix_page_form_changes_the_phase_and_profile_without_javascript(tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Chromium is installed by the test command (Debian package 'chromium')"
    attend, scene_guard = 0, 1
    with running(f"sqlite:///{tmp_path / 'browser.db'}") as (base, _server), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            # The browser's own sign-in prompt, answered with any user name and the key; no script on the page runs.
            context = browser.new_context(
                http_credentials={"username": "planner", "password": KEYS["planner"]},
                java_script_enabled=False,
                viewport={"width": 1600, "height": 1400},
            )
            page = context.new_page()
            external = []
            page.on("request", lambda request: external.append(request.url) if not request.url.startswith(base) else None)
            page.goto(f"{base}/v1/policies/west-midlands/matrix.html")
            first = page.locator("tbody th[scope=row]").first
            header = (first.locator(".name").inner_text(), first.locator("code").inner_text(), first.inner_text())
            legend = page.locator("ul.legend li").all_inner_texts()
            before = {
                "phase": page.locator("#f-phase").input_value(),
                "nuisance_attend": _cell(page, "asb.nuisance", attend),
                "knife_scene_guard": _cell(page, "violence.knife_crime", scene_guard),
                "traffic_direct": page.locator("input[name=powers][value='traffic.direct']").is_checked(),
            }

            page.select_option("#f-phase", "scene_secured")
            page.check("input[name=powers][value='traffic.direct']")
            page.click("form button[type=submit]")
            page.wait_for_url("**phase=scene_secured**")
            secured = {
                "url": page.url,
                "phase": page.locator("#f-phase").input_value(),
                "traffic_direct": page.locator("input[name=powers][value='traffic.direct']").is_checked(),
                "knife_scene_guard": _cell(page, "violence.knife_crime", scene_guard),
                "profile": page.locator("#profile-shown").inner_text(),
            }

            page.select_option("#f-training_status", "foundation")
            page.click("form button[type=submit]")
            page.wait_for_url("**training_status=foundation**")
            foundation = {
                "training_status": page.locator("#f-training_status").input_value(),
                "phase": page.locator("#f-phase").input_value(),
                "cells": [cell.get_attribute("class") for cell in page.locator("tbody td").all()],
            }
            page.screenshot(path=str(tmp_path / "matrix-foundation.png"), full_page=False)
        finally:
            browser.close()
    assert header == ("Violence in progress", "violence.in_progress", "Violence in progress\nviolence.in_progress")
    assert [text.split(" ", 1)[0] for text in legend] == ["Deploy", "With", "Refer", "Do"]
    assert before == {
        "phase": "in_progress",
        "nuisance_attend": "deploy",
        "knife_scene_guard": "do_not_deploy",
        "traffic_direct": False,
    }
    assert "phase=scene_secured" in secured["url"] and "powers=traffic.direct" in secured["url"]
    assert secured["phase"] == "scene_secured" and secured["traffic_direct"] is True
    assert secured["knife_scene_guard"] in ("deploy", "deploy_with_conditions")
    assert "designated powers: Direct traffic" in secured["profile"] and "scene secured" in secured["profile"]
    assert foundation["training_status"] == "foundation" and foundation["phase"] == "scene_secured"
    assert len(foundation["cells"]) == 48 * 10 and set(foundation["cells"]) == {"do_not_deploy"}
    assert (tmp_path / "matrix-foundation.png").stat().st_size > 10_000
    assert external == []
