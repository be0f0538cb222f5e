"""Issue #16 item 9 on the page, in real headless Chromium: an empty search shows the
latest stories, the page fits a phone, counts read as words, feed times as dates."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def test_empty_search_shows_the_latest_stories(site: str, page: Any, artifacts: Path) -> None:
    for path in ("/", "/?q=&topic=&source=&lang=&since="):
        page.goto(site + path)
        latest = page.locator(".latest .story")
        assert latest.count() == 2, path  # the seeds' story and the festival story
        headlines = latest.locator("a.story-link").all_inner_texts()
        assert "Harbour festival" in headlines[0], "newest first"
    page.locator(".latest a.story-link").nth(1).click()
    page.wait_for_selector("#headline")
    assert page.locator("#source-count").inner_text() == "5"
    page.goto(site + "/")
    page.screenshot(path=str(artifacts / "empty-search-latest.png"), full_page=True)


def test_counts_read_as_words(site: str, page: Any) -> None:
    page.goto(site + "/?q=festival")
    meta = page.locator(".story .meta").first.inner_text()
    assert meta.startswith("1 article · 1 source:"), meta
    summary = page.locator(".summary").inner_text()
    assert summary.startswith("1 article in 1 story on this page"), summary
    page.locator("a.story-link").first.click()
    page.wait_for_selector("#headline")
    assert "1 article from 1 source ·" in page.locator(".timeline .meta").inner_text()


@pytest.mark.parametrize("path", ["/?q=agreements", "/", "/alerts", "/story-of-the-seeds"])
def test_pages_fit_a_narrow_screen(site: str, browser: Any, artifacts: Path,
                                   path: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        if path == "/story-of-the-seeds":
            page.goto(site + "/?q=agreements")
            page.locator("a.story-link").first.click()
            page.wait_for_selector("#headline")
        else:
            page.goto(site + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path}: {overflow}px wider than the screen"
        if path == "/?q=agreements":
            results = page.locator(".results").bounding_box()
            facets = page.locator(".facets").bounding_box()
            assert results["width"] >= 300, "results take the width"
            assert facets["y"] > results["y"], "facets come after the results"
            box = page.locator("#q").bounding_box()
            assert box["width"] >= 300
        name = path.strip("/?").replace("=", "-").replace("/", "-") or "home"
        page.screenshot(path=str(artifacts / f"narrow-{name}.png"), full_page=True)
    finally:
        context.close()


def test_feed_times_are_dates_for_people(sample_site: str, page: Any,
                                         artifacts: Path) -> None:
    page.goto(sample_site + "/feeds")
    rows = page.locator("#feeds tbody tr")
    assert rows.count() == 2
    text = page.locator("#feeds").inner_text()
    assert not ISO.search(text), text
    shown = page.locator("#feeds time").all_inner_texts()
    assert len(shown) == 2 and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", t)
                                   for t in shown), shown
    page.screenshot(path=str(artifacts / "feeds-dates.png"), full_page=True)


def test_head_on_the_real_server(site: str) -> None:
    import httpx

    for path in ("/", "/feeds", "/alerts"):
        response = httpx.head(site + path, timeout=10)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
