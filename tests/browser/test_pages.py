"""The page in real headless Chromium: search the seeds, open their story and see five
sources; article content carrying script and event-handler payloads renders inert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import EVIL_TITLE, record_dialogs

pytestmark = pytest.mark.browser


def test_search_the_seeds_and_open_their_story(site: str, page: Any,
                                                 artifacts: Path) -> None:
    page.goto(site + "/")
    page.fill("#q", '"security agreement" OR agreements')
    page.press("#q", "Enter")
    page.wait_for_selector(".story")
    groups = page.locator(".story")
    seed = groups.filter(has_text="Outlet 000")
    assert seed.count() == 1
    assert "5 articles" in seed.locator(".meta").first.inner_text()
    assert page.locator(".snippet mark").count() > 0  # highlighted matches
    assert page.locator(".facets").inner_text().count("Outlet 00") == 5
    page.screenshot(path=str(artifacts / "search-seeds.png"), full_page=True)

    seed.locator("a.story-link").click()
    page.wait_for_selector("#headline")
    assert page.locator("#source-count").inner_text() == "5"
    sources = page.locator(".entry .source").all_inner_texts()
    assert sorted(sources) == [f"Outlet {k}" for k in ("000", "001", "002", "003", "004")]
    times = page.locator(".entry time").all_inner_texts()
    assert times == sorted(times), "the timeline runs by time"
    page.screenshot(path=str(artifacts / "story-timeline.png"), full_page=True)


def test_script_payloads_render_inert(site: str, page: Any, artifacts: Path) -> None:
    dialogs = record_dialogs(page)
    page.goto(site + "/?q=festival")
    page.wait_for_selector(".story")
    assert page.evaluate("document.documentElement.dataset.js") == "on", "our script runs"
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.scripts.length") == 1  # /static/app.js only
    assert page.locator("main img, main svg").count() == 0
    text = page.locator(".results").inner_text()
    assert EVIL_TITLE in text  # shown as text, not run
    assert "onerror=" in text and "<script>" in text
    page.screenshot(path=str(artifacts / "payload-inert-search.png"), full_page=True)

    page.locator("a.story-link").first.click()
    page.wait_for_selector("#headline")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert "<script>" in page.locator("#headline").inner_text()
    page.screenshot(path=str(artifacts / "payload-inert-story.png"), full_page=True)
    assert dialogs == []


def test_parse_errors_are_shown(site: str, page: Any) -> None:
    page.goto(site + "/")
    page.fill("#q", "pact AND (")
    page.press("#q", "Enter")
    alert = page.locator("[role=alert]")
    assert "does not parse" in alert.inner_text()
    assert page.input_value("#q") == "pact AND ("


def test_facet_narrows_the_search(site: str, page: Any) -> None:
    page.goto(site + "/?q=agreements")
    page.locator(".facets a", has_text="Outlet 002").click()
    page.wait_for_selector(".story")
    assert page.locator(".hit").count() == 1
    assert page.input_value("input[name=source]") == "Outlet 002"
