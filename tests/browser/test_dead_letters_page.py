"""/dead-letters in real headless Chromium: the letters of an ingest with a bad line and a
consent page carrying a script payload, filtered by stage; the payload renders inert."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import EVIL_TITLE, record_dialogs, serve, site_config
from tests.conftest import REPO, newswire

pytestmark = pytest.mark.browser
CONSENT = (REPO / "tests" / "fixtures" / "clean_consent.html").read_text()


@pytest.fixture(scope="module")
def dead_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("dead")
    config, data = site_config(tmp), tmp / "data"
    archive = tmp / "bad.jsonl"
    archive.write_text(json.dumps({"url": "https://consent.example/x", "html": CONSENT,
                                   "title": EVIL_TITLE, "source": "Consent Outlet"})
                       + "\n" + '{"url": "https://x.example/broken", \n')
    newswire(config, data, "ingest", str(archive), check=False)
    with serve(config, data, tmp) as base:
        yield base


def test_the_dead_letters_page(dead_site: str, page: Any, artifacts: Path) -> None:
    dialogs = record_dialogs(page)
    page.goto(dead_site + "/")
    page.click("nav >> text=Dead letters")
    page.wait_for_selector("#dead-letters")
    rows = page.locator("#dead-letters tbody tr")
    assert rows.count() == 2
    text = page.locator("#dead-letters").inner_text()
    assert "not an article (consent)" in text and "bad.jsonl:2" in text
    assert EVIL_TITLE in text  # the payload's title as text, not run
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.screenshot(path=str(artifacts / "dead-letters.png"), full_page=True)

    page.fill("input[name=stage]", "ingest")
    page.click("form.filters button")
    page.wait_for_url("**/dead-letters?stage=ingest**")
    assert page.locator("#dead-letters tbody tr").count() == 1
    assert "not valid JSON" in page.locator("#dead-letters").inner_text()
    assert dialogs == []
